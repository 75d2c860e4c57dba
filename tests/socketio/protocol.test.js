// Engine.IO v4 and Socket.IO v5 at the wire, written from the protocol specifications:
// raw HTTP and WebSocket, no client library. Runs against SB_STRICT_URL, a server with
// the reference defaults for payloads and short timers: pingInterval 300 ms,
// pingTimeout 200 ms, maxPayload 1,000,000 bytes, connect timeout 1 s.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { createHmac } from "node:crypto";

const BASE = process.env.SB_STRICT_URL;
const SECRET = process.env.SB_SECRET;
const EIO = `${BASE}/socket.io/?EIO=4`;
const WS_EIO = EIO.replace("http", "ws");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

function jwt(sub, role = "customer") {
  const enc = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const body = `${enc({ alg: "HS256", typ: "JWT" })}.${enc({ sub, role, name: sub, exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${body}.${createHmac("sha256", SECRET).update(body).digest("base64url")}`;
}

async function get(url, init) {
  const res = await fetch(url, init);
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function openPolling() {
  const res = await get(`${EIO}&transport=polling`);
  assert.equal(res.status, 200);
  return JSON.parse(res.text.slice(1)).sid;
}

const post = (sid, body) => get(`${EIO}&transport=polling&sid=${sid}`, { method: "POST", body });
const poll = (sid) => get(`${EIO}&transport=polling&sid=${sid}`);

/** A raw WebSocket with a queue of received frames (text as strings, binary as Buffers). */
function rawWs(url) {
  const ws = new WebSocket(url);
  const frames = [];
  const waiters = [];
  ws.closed = new Promise((r) => ws.once("close", r));
  ws.on("error", () => {});
  ws.on("message", (data, isBinary) => {
    frames.push(isBinary ? Buffer.from(data) : data.toString());
    waiters.splice(0).forEach((w) => w());
  });
  ws.next = (pred = (f) => f !== "2", ms = 3000) =>
    new Promise((resolve, reject) => {
      const look = () => {
        const i = frames.findIndex(pred);
        if (i < 0) return waiters.push(look);
        clearTimeout(timer);
        resolve(frames.splice(i, 1)[0]);
      };
      const timer = setTimeout(() => reject(new Error(`no frame; have ${frames.map(String).join(" | ")}`)), ms);
      look();
    });
  // Answer the server's pings, as a client must.
  ws.on("message", (data, isBinary) => {
    if (!isBinary && data.toString() === "2") ws.send("3");
  });
  ws.opened = new Promise((r) => ws.once("open", r));
  return ws;
}

async function wsSession(path = "") {
  const ws = rawWs(`${WS_EIO}&transport=websocket${path}`);
  const open = await ws.next((f) => typeof f === "string" && f.startsWith("0"));
  return { ws, open: JSON.parse(open.slice(1)) };
}

/** A WebSocket session with namespace `/` connected. */
async function connected() {
  const { ws } = await wsSession();
  ws.send("40");
  const reply = await ws.next((f) => f.startsWith("40"));
  return { ws, reply: JSON.parse(reply.slice(2)) };
}

describe("Engine.IO handshake", () => {
  it("opens a polling session with the spec's handshake fields", async () => {
    const res = await get(`${EIO}&transport=polling`);
    assert.equal(res.status, 200);
    assert.ok(res.text.startsWith("0"));
    const open = JSON.parse(res.text.slice(1));
    assert.deepEqual(Object.keys(open).sort(), ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
    assert.deepEqual(open.upgrades, ["websocket"]);
    assert.equal(open.pingInterval, 300);
    assert.equal(open.pingTimeout, 200);
    assert.equal(open.maxPayload, 1000000);
  });

  it("opens a WebSocket session with no upgrades", async () => {
    const { ws, open } = await wsSession();
    assert.deepEqual(open.upgrades, []);
    ws.close();
  });

  it("refuses a bad EIO, an unknown transport, a bad method and an unknown sid", async () => {
    for (const q of ["transport=polling", "EIO=abc&transport=polling", "EIO=3&transport=polling"]) {
      const res = await get(`${BASE}/socket.io/?${q}`);
      assert.equal(res.status, 400, q);
      assert.deepEqual(JSON.parse(res.text), { code: 5, message: "Unsupported protocol version" });
    }
    for (const q of ["", "&transport=abc"]) {
      const res = await get(`${EIO}${q}`);
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.text), { code: 0, message: "Transport unknown" });
    }
    for (const method of ["POST", "PUT"]) {
      const res = await get(`${EIO}&transport=polling`, { method, body: "x" });
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.text), { code: 2, message: "Bad handshake method" });
    }
    const res = await poll("no-such-sid");
    assert.equal(res.status, 400);
    assert.deepEqual(JSON.parse(res.text), { code: 1, message: "Session ID unknown" });
    const ws = rawWs(`${WS_EIO.replace("EIO=4", "EIO=abc")}&transport=websocket`);
    await ws.closed;
  });

  it("answers CORS for allowed origins and refuses others", async () => {
    const host = new globalThis.URL(BASE).host;
    const ok = await get(`${EIO}&transport=polling`, { headers: { origin: `http://${host}` } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("access-control-allow-origin"), `http://${host}`);
    assert.equal(ok.headers.get("access-control-allow-credentials"), "true");
    const evil = await get(`${EIO}&transport=polling`, { headers: { origin: "http://evil.example" } });
    assert.equal(evil.status, 403);
    assert.deepEqual(JSON.parse(evil.text), { code: 4, message: "Forbidden" });
  });
});

describe("Engine.IO polling", () => {
  it("carries packets both ways, several per payload", async () => {
    const sid = await openPolling();
    const pushed = await post(sid, `40\x1e42["authenticate",{"token":"forged"}]`);
    assert.equal(pushed.status, 200);
    assert.equal(pushed.text, "ok");
    let body = "";
    for (let i = 0; i < 5 && !body.includes("authentication_error"); i++) body += (await poll(sid)).text + "\x1e";
    const packets = body.split("\x1e");
    const connect = packets.find((p) => p.startsWith("40{"));
    assert.deepEqual(Object.keys(JSON.parse(connect.slice(2))).sort(), ["pid", "sid"], body);
    assert.ok(packets.some((p) => p.startsWith('42["authentication_error",')), body);
  });

  it("closes the session on duplicate polls", async () => {
    const sid = await openPolling();
    const [first, second] = await Promise.all([poll(sid), sleep(20).then(() => poll(sid))]);
    assert.equal(first.status, 200);
    assert.equal(first.text, "1");
    assert.equal(second.status, 400);
    assert.equal((await poll(sid)).status, 400);
  });

  it("closes the session on a malformed payload", async () => {
    const sid = await openPolling();
    assert.equal((await post(sid, "abc")).status, 400);
    assert.equal((await poll(sid)).status, 400);
  });

  it("pings, and closes the session when pongs stop", async () => {
    const sid = await openPolling();
    assert.equal((await poll(sid)).text, "2");
    assert.equal((await post(sid, "3")).status, 200);
    assert.equal((await poll(sid)).text, "2");
    await sleep(300 + 200 + 100);
    assert.equal((await post(sid, "3")).status, 400);
  });

  it("closes on the client's close packet", async () => {
    const sid = await openPolling();
    assert.equal((await post(sid, "1")).status, 200);
    assert.equal((await poll(sid)).status, 400);
  });

  it("refuses a 1,000,001-byte payload and ends the session", async () => {
    const sid = await openPolling();
    const res = await post(sid, "4" + "x".repeat(1_000_000));
    assert.equal(res.status, 413);
    assert.equal((await poll(sid)).status, 400);
  });
});

describe("Engine.IO WebSocket and upgrade", () => {
  it("closes when pongs stop, and on a message over maxPayload", async () => {
    const silent = new WebSocket(`${WS_EIO}&transport=websocket`);
    silent.on("error", () => {});
    await new Promise((r) => silent.once("close", r));

    const { ws } = await wsSession();
    ws.send("4" + "x".repeat(1_000_000));
    assert.equal(await ws.closed, 1009, "message too big");
  });

  it("reassembles fragmented messages, bounded by maxPayload as a whole", async () => {
    const { ws } = await wsSession();
    // An Engine.IO ping with data, in three fragments: one pong with the same data.
    ws.send("2", { fin: false });
    ws.send("frag", { fin: false });
    ws.send("mented", { fin: true });
    assert.equal(await ws.next((f) => f.startsWith("3")), "3fragmented");
    // A CONNECT in two fragments.
    ws.send("4", { fin: false });
    ws.send("0", { fin: true });
    assert.match(await ws.next((f) => f.startsWith("4")), /^40\{.*"sid":/);
    // Each fragment under maxPayload, the whole message over it: close 1009.
    ws.send("4" + "x".repeat(600_000), { fin: false });
    ws.send("y".repeat(400_001), { fin: true });
    assert.equal(await ws.closed, 1009);
  });

  it("upgrades polling to WebSocket: 2probe, 3probe, noop to the poll, 5", async () => {
    const sid = await openPolling();
    assert.equal((await poll(sid)).text, "2");
    await post(sid, "3");
    const pending = poll(sid);
    const ws = rawWs(`${WS_EIO}&transport=websocket&sid=${sid}`);
    await ws.opened;
    ws.send("2probe");
    assert.equal(await ws.next(), "3probe");
    assert.equal((await pending).text, "6");
    ws.send("5");
    ws.send("40");
    const reply = JSON.parse((await ws.next((f) => f.startsWith("40"))).slice(2));
    assert.match(reply.sid, /^[0-9a-f]{32}$/);
    assert.match(reply.pid, /^[0-9a-f]{32}$/);
    assert.equal((await poll(sid)).status, 400, "polling is over after the upgrade");
    // A second WebSocket for the upgraded session is accepted, then closed.
    const second = rawWs(`${WS_EIO}&transport=websocket&sid=${sid}`);
    await second.opened;
    await second.closed;
    ws.close();
  });

  it("closes a session that connects no namespace in time", async () => {
    const { ws } = await wsSession();
    const started = Date.now();
    await ws.closed;
    assert.ok(Date.now() - started >= 900, "closed by the connect timeout, not earlier");
  });
});

describe("Socket.IO packets", () => {
  it("connects namespaces, refuses unknown ones and bad auth with CONNECT_ERROR", async () => {
    const { ws, reply } = await connected();
    assert.equal(typeof reply.sid, "string");
    ws.send("40/random,");
    assert.equal(await ws.next((f) => f.startsWith("44")), '44/random,{"message":"Invalid namespace"}');
    ws.send('40/support,{"token":"forged"}');
    const refused = JSON.parse((await ws.next((f) => f.startsWith("44/support,"))).slice("44/support,".length));
    assert.ok(refused.message);
    assert.equal(typeof refused.data.code, "string");
    ws.send("40/support,{}");
    assert.ok(JSON.parse((await ws.next((f) => f.startsWith("40/support,"))).slice(11)).sid);
    assert.match(await ws.next((f) => f.startsWith("42/support,")), /connection:success/);
    ws.close();
  });

  it("answers an ack request, ack id 0 included", async () => {
    const { ws } = await connected();
    ws.send(`420["authenticate",{"token":"${jwt("ack-user")}"}]`);
    const ack = await ws.next((f) => f.startsWith("430"));
    assert.equal(JSON.parse(ack.slice(3))[0].user.id, "ack-user");
    ws.send(`4217["authenticate",{"token":"forged"}]`);
    assert.ok(JSON.parse((await ws.next((f) => f.startsWith("4317"))).slice(4))[0].message);
    ws.close();
  });

  it("takes binary attachments (BINARY_EVENT with placeholders) over WebSocket and polling", async () => {
    const token = jwt("bin-user");
    const created = await fetch(`${BASE}/api/v1/chat/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ subject: "binary" }),
    });
    const ticketId = (await created.json()).data.id;
    const event = (text) =>
      `451-["send_message",{"ticketId":"${ticketId}","message":"${text}","attachments":[{"name":"a.png","type":"image/png","data":{"_placeholder":true,"num":0}}]}]`;

    const { ws } = await connected();
    ws.send(`42["authenticate",{"token":"${token}"}]`);
    await ws.next((f) => f.includes('"authenticated"'));
    ws.send(`42["join_ticket",{"ticketId":"${ticketId}"}]`);
    await ws.next((f) => f.includes('"joined_ticket"'));
    ws.send(event("over ws"));
    ws.send(PNG);
    const got = await ws.next((f) => typeof f === "string" && f.includes("over ws"));
    const [name, { data }, offset] = JSON.parse(got.slice(2));
    assert.equal(name, "new_message");
    assert.equal(data.attachments[0].size, PNG.length);
    assert.equal(offset, `${ticketId}:${data.seq}`);

    const sid = await openPolling();
    await post(sid, `40\x1e42["authenticate",{"token":"${token}"}]`);
    await post(sid, `${event("over polling")}\x1eb${PNG.toString("base64")}`);
    const stored = await ws.next((f) => typeof f === "string" && f.includes("over polling"));
    assert.equal(JSON.parse(stored.slice(2))[1].data.attachments[0].size, PNG.length);
    await post(sid, "1");
    ws.close();
    await ws.closed;
  });

  it("a client that does not read is dropped, and the server forgets it", async () => {
    const health = async () => (await (await fetch(`${BASE}/health`)).json()).connections.connections;
    const sid = await openPolling();
    await post(sid, "40/support,{}");
    await poll(sid);
    const during = await health();
    // 300 events never read back: their answers overflow the bounded queue.
    const flood = Array.from({ length: 300 }, () => '42/support,["typing:start",{}]').join("\x1e");
    await post(sid, flood);
    await sleep(200);
    assert.equal((await poll(sid)).status, 400, "the session was closed");
    // Counted while it was there, and forgotten now (sessions of earlier tests may go
    // meanwhile, by ping timeout, so the count may drop further).
    assert.ok((await health()) <= during - 1, "its connection was forgotten");
  });

  it("closes the connection on a malformed packet, not on DISCONNECT of the last namespace", async () => {
    const bad = await wsSession();
    bad.ws.send("4abc");
    await bad.ws.closed;
    const bin = await wsSession();
    bin.ws.send(Buffer.from([1, 2, 3]));
    await bin.ws.closed;
    // After its last namespace the connection stays, pinged, and may connect again.
    const { ws } = await connected();
    ws.send("41");
    assert.equal(await ws.next((f) => f === "2", 3000), "2");
    ws.send("40");
    assert.match(await ws.next((f) => f.startsWith("40")), /"sid"/);
    ws.close();
  });

  it("answers a pending poll with a noop when the client closes", async () => {
    const sid = await openPolling();
    const pending = poll(sid);
    await sleep(50);
    assert.equal((await post(sid, "1")).status, 200);
    assert.equal((await pending).text, "6");
    assert.equal((await poll(sid)).status, 400);
  });
});
