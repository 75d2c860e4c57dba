// A graceful restart (started by tests/api/drain.rs): the server at SB_URL, process
// SB_PID, gets SIGTERM here, and the Rust side starts the next process on the same
// port. Every client, over each transport, hears its transport close (not a server
// disconnect, after which socket.io-client would stay away), reconnects by itself to
// the next process and is served there. The signal comes as one more client is in
// the middle of its upgrade (answered `3probe`, pausing its polling); it too hears its
// transport close rather than waiting out its ping timeout.
import { it, after } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { MODES, URL, closeAll, request, token, transport, uid } from "./helpers.js";

const PID = Number(process.env.SB_PID);
if (!PID) throw new Error("SB_PID must be set");

after(closeAll);

const client = (mode) => ({
  mode: mode.name,
  socket: io(`${URL}/support`, {
    forceNew: true,
    auth: { token: token(uid("agent"), "agent") },
    reconnectionDelay: 100,
    reconnectionDelayMax: 300,
    ...mode.opts,
  }),
});
const once = (emitter, event) => new Promise((done) => emitter.once(event, done));

it("on SIGTERM every client reconnects to the next process by itself", async () => {
  const clients = MODES.map(client);
  await Promise.all(clients.map(({ socket }) => once(socket, "connect")));
  await Promise.all(clients.map(({ socket }, i) => transport(socket, MODES[i].final)));
  const upgrading = client({ name: "mid-upgrade", opts: {} });
  // The engine says "upgrading" on `3probe`, just before it pauses its polling.
  await new Promise((done) =>
    upgrading.socket.io.once("open", () => upgrading.socket.io.engine.once("upgrading", done)),
  );
  clients.push(upgrading);
  // How each client's first connection ends (an engine closes whether or not its
  // namespace had connected yet).
  const engines = clients.map(({ socket }) => socket.io.engine);
  const gone = engines.map((engine) => once(engine, "close"));

  process.kill(PID, "SIGTERM");
  const reasons = await Promise.all(gone);
  for (const [i, reason] of reasons.entries()) {
    assert.ok(
      ["transport close", "transport error"].includes(reason),
      `${clients[i].mode}: ${reason}`,
    );
  }
  // Back on a new connection, served by the next process: it answers (a conversation
  // that does not exist).
  const deadline = Date.now() + 15000;
  for (const [i, { mode, socket }] of clients.entries()) {
    while (!(socket.connected && socket.io.engine !== engines[i])) {
      assert.ok(Date.now() < deadline, `${mode} is not back`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const answer = await request(socket, "conversation:join", { conversationId: "nope-nope-nope" }, 10000);
    assert.ok(answer && typeof answer === "object", `${mode}: ${JSON.stringify(answer)}`);
  }
  for (const { socket } of clients) socket.close();
});
