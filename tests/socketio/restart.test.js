// A graceful restart (started by tests/api/drain.rs): the server at SB_URL, process
// SB_PID, gets SIGTERM here, and the Rust side starts the next process on the same
// port. Every client, over each transport, hears its transport close (not a server
// disconnect, after which socket.io-client would stay away), reconnects by itself to
// the next process and is served there.
import { it, after } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { MODES, URL, closeAll, request, token, transport, uid } from "./helpers.js";

const PID = Number(process.env.SB_PID);
if (!PID) throw new Error("SB_PID must be set");

after(closeAll);

it("on SIGTERM every client reconnects to the next process by itself", async () => {
  const clients = MODES.map((mode) => {
    const socket = io(`${URL}/support`, {
      forceNew: true,
      auth: { token: token(uid("agent"), "agent") },
      reconnectionDelay: 100,
      reconnectionDelayMax: 300,
      ...mode.opts,
    });
    return { mode: mode.name, socket };
  });
  const once = (emitter, event) => new Promise((done) => emitter.once(event, done));
  await Promise.all(clients.map(({ socket }) => once(socket, "connect")));
  // Each on its final transport: a SIGTERM in the middle of an upgrade is a case of
  // its own (see the README's note on draining), not this one.
  await Promise.all(clients.map(({ socket }, i) => transport(socket, MODES[i].final)));
  const gone = clients.map(({ socket }) => once(socket, "disconnect"));
  const back = clients.map(({ socket }) => once(socket, "connect"));

  process.kill(PID, "SIGTERM");
  const reasons = await Promise.all(gone);
  for (const [i, reason] of reasons.entries()) {
    assert.ok(
      ["transport close", "transport error"].includes(reason),
      `${clients[i].mode}: ${reason}`,
    );
  }
  await Promise.all(back);
  // Served by the next process: it answers (a conversation that does not exist).
  for (const { mode, socket } of clients) {
    assert.ok(socket.connected, mode);
    const answer = await request(socket, "conversation:join", { conversationId: "nope-nope-nope" }, 10000);
    assert.ok(answer && typeof answer === "object", `${mode}: ${JSON.stringify(answer)}`);
  }
  for (const { socket } of clients) socket.close();
});
