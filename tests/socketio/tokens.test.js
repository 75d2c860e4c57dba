// Token lifetime on every Socket.IO dialect, over WebSocket and polling: a socket that
// signed in with a token ends at its `exp` (the dialect's error, then a server-side
// disconnect, after which socket.io-client does not reconnect), nothing sent after
// `exp` is acted on, and tokens that are not yet valid (`nbf`) or not strings are
// refused.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { URL, api, closeAll, connect, next, token, uid } from "./helpers.js";

after(closeAll);

const TRANSPORTS = [
  { name: "websocket", opts: { transports: ["websocket"] } },
  { name: "polling", opts: { transports: ["polling"], upgrade: false } },
];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Math.floor(Date.now() / 1000);

/** A token that runs out in 2 s at most (`exp` has whole seconds). */
const shortLived = (sub, role = "customer") => token(sub, role, `${sub} name`, 2);

/** The reason of the socket's next `disconnect`, within `ms`. */
function disconnected(socket, ms = 6000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("still connected")), ms);
    socket.once("disconnect", (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

async function openSession(customerToken) {
  const res = await api("POST", "/api/v1/chat/sessions", { subject: "Expiry" }, customerToken);
  assert.equal(res.status, 201, res.text);
  return res.json.data.id;
}

async function texts(conversationId) {
  const res = await api("GET", `/api/v1/chat/sessions/${conversationId}/messages`, undefined, token(uid("a"), "agent"));
  assert.equal(res.status, 200, res.text);
  return res.json.data.map((m) => m.content);
}

/** Each socket must see `error` first, then be disconnected by the server for good. */
async function endsAtExpiry(socket, errorEvent, errorText) {
  const gone = disconnected(socket);
  const err = await next(socket, errorEvent, () => true, 6000);
  assert.equal(errorText(err), "Token expired");
  assert.equal(err.code, "token_expired");
  assert.equal(await gone, "io server disconnect");
  // A server-side disconnect is final: the client does not come back by itself.
  await sleep(300);
  assert.equal(socket.connected, false);
}

describe("a socket ends when its token expires", { concurrency: true }, () => {
  for (const t of TRANSPORTS) {
    it(`seed 003 /support over ${t.name}`, async () => {
      const user = uid("cust");
      const socket = await connect("/support", { ...t.opts, auth: { token: shortLived(user) } });
      assert.equal((await next(socket, "connection:success")).userId, user);
      await endsAtExpiry(socket, "message:error", (e) => e.error);
    });

    it(`seed 004 / over ${t.name}`, async () => {
      const agent = uid("agent");
      const session = await openSession(token(uid("cust")));
      const socket = await connect("/", { ...t.opts, auth: { token: shortLived(agent, "agent") } });
      socket.emit("join_session", { session_id: session });
      await next(socket, "session_joined");
      await endsAtExpiry(socket, "error", (e) => e.message);
      // accept_chat after expiry: the socket is gone and the session still waits.
      socket.emit("accept_chat", { session_id: session });
      await sleep(300);
      const res = await api("GET", `/api/v1/chat/sessions/${session}`, undefined, token(uid("a"), "agent"));
      assert.equal(res.json.data.status, "waiting");
    });

    it(`seed 001 / over ${t.name}`, async () => {
      const customer = uid("cust");
      const socket = await connect("/", t.opts);
      socket.emit("authenticate", { token: shortLived(customer) });
      assert.equal((await next(socket, "authenticated")).user.id, customer);
      await endsAtExpiry(socket, "authentication_error", (e) => e.message);
    });
  }
});

// socket.io-client stops sending once disconnected; a raw client does not. What it
// sends after `exp` must change nothing.
describe("nothing sent after exp is acted on", { concurrency: true }, () => {
  const EIO = `${URL}/socket.io/?EIO=4&transport=polling`;
  const get = async (sid, init) => {
    const res = await fetch(`${EIO}${sid ? `&sid=${sid}` : ""}`, init);
    return { status: res.status, text: await res.text() };
  };

  it("a raw polling client keeps posting after its token expired", async () => {
    const customerToken = token(uid("cust"));
    const conversation = await openSession(customerToken);
    const sid = JSON.parse((await get()).text.slice(1)).sid;
    const auth = JSON.stringify({ token: shortLived(uid("agent"), "agent") });
    await get(sid, { method: "POST", body: `40/support,${auth}` });
    assert.match((await get(sid)).text, /^40\/support,/);
    const send = (message) =>
      `42/support,${JSON.stringify(["message:send", { conversationId: conversation, message }])}`;
    await get(sid, { method: "POST", body: send("before expiry") });
    await sleep(2100);
    // The expiry may or may not have fired yet: either way, this is not acted on.
    await get(sid, { method: "POST", body: send("after expiry") });
    let seen = "";
    const until = Date.now() + 6000;
    while (!seen.includes("41/support,") && Date.now() < until) seen += (await get(sid)).text;
    const packets = seen.split("\x1e");
    const error = packets.findIndex((p) => p.startsWith('42/support,["message:error"'));
    assert.ok(error >= 0, seen);
    assert.deepEqual(JSON.parse(packets[error].slice("42/support,".length)), [
      "message:error",
      { error: "Token expired", code: "token_expired" },
    ]);
    // The error first, then the namespace's DISCONNECT.
    assert.equal(packets.findIndex((p) => p.startsWith("41/support,")), error + 1);
    // The Engine.IO session itself stays open (the client may connect again).
    await get(sid, { method: "POST", body: send("after disconnect") });
    await sleep(300);
    assert.deepEqual(await texts(conversation), ["before expiry"]);
  });
});

describe("tokens that are not valid yet, or not strings, are refused", () => {
  const later = { nbf: now() + 3600 };

  it("nbf in the future: /support, seed 004 handshake, seed 001 authenticate", async () => {
    await assert.rejects(connect("/support", { auth: { token: token(uid("u"), "customer", "n", 7200, later) } }), (e) => {
      assert.equal(e.message, "Authentication failed");
      assert.equal(e.data.code, "authentication_failed");
      return true;
    });
    await assert.rejects(connect("/", { auth: { token: token(uid("a"), "agent", "n", 7200, later) } }), (e) => {
      assert.equal(e.message, "Authentication failed");
      return true;
    });
    const socket = await connect("/");
    socket.emit("authenticate", { token: token(uid("u"), "customer", "n", 7200, later) });
    assert.equal((await next(socket, "authentication_error")).message, "Authentication failed");
    // A token whose nbf has passed is fine.
    socket.emit("authenticate", { token: token(uid("u"), "customer", "n", 7200, { nbf: now() - 60 }) });
    await next(socket, "authenticated");
  });

  it("a token or guest id that is not a string is a connect_error, not a new guest", async () => {
    for (const auth of [{ token: 42 }, { token: { forged: true } }, { token: ["x"] }, { guestId: 7 }, { token: true }]) {
      await assert.rejects(connect("/support", { auth }), (e) => {
        assert.equal(e.message, "Authentication failed", JSON.stringify(auth));
        assert.match(e.data.detail, /must be a string/);
        return true;
      });
    }
    for (const auth of [{ token: 42 }, { token: {} }]) {
      await assert.rejects(connect("/", { auth }), (e) => e.message === "Authentication failed");
    }
    const socket = await connect("/");
    socket.emit("authenticate", { token: 42 });
    assert.equal((await next(socket, "authentication_error")).message, "Authentication failed");
    // null means no token, as a frontend with nothing stored sends it.
    const guest = await connect("/support", { auth: { token: null } });
    assert.equal((await next(guest, "connection:success")).type, "guest");
  });
});
