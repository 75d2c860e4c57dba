// Socket.IO over several nodes (started by tests/api/cluster/sio.rs): node A at SB_URL,
// B at SB_URL_B, C at SB_URL_C, A's process id in SB_PID_A. Clients on different
// nodes talk on every dialect; a client whose node is killed comes back through a
// load balancer to another node and recovers its state there.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { execSync } from "node:child_process";
import net from "node:net";
import { api, closeAll, connect, next, none, request, token, uid } from "./helpers.js";

const A = process.env.SB_URL;
const B = process.env.SB_URL_B;
const C = process.env.SB_URL_C;
const PID_A = Number(process.env.SB_PID_A);
const REDIS = process.env.SB_REDIS_URL;
if (!B || !C || !PID_A || !REDIS) throw new Error("SB_URL_B, SB_URL_C, SB_PID_A and SB_REDIS_URL must be set");

after(closeAll);

const ws = { transports: ["websocket"] };

/** A TCP load balancer in front of the nodes: each connection goes to the first node
 * (from `lb.first` on) that accepts it, so when A dies its clients come back on B.
 * `lb.freeze()` cuts the connections it carries without telling the nodes (as a
 * network partition does): they keep their sockets until their ping timeout. */
function balancer(urls) {
  const upstreams = urls.map((u) => new globalThis.URL(u)).map((u) => ({ host: u.hostname, port: Number(u.port) }));
  const pairs = [];
  const lb = { first: 0 };
  lb.freeze = () => {
    for (const p of pairs.splice(0)) {
      p.frozen = true;
      p.client.unpipe(p.up);
      p.up.unpipe(p.client);
      p.up.pause();
      p.client.destroy();
    }
  };
  lb.server = net.createServer((client) => {
    client.on("error", () => {});
    const attempt = (i) => {
      if (i >= upstreams.length) return client.destroy();
      const up = net.connect(upstreams[(lb.first + i) % upstreams.length]);
      let connected = false;
      up.on("error", () => (connected ? client.destroy() : attempt(i + 1)));
      up.once("connect", () => {
        connected = true;
        const pair = { client, up, frozen: false };
        pairs.push(pair);
        client.pipe(up);
        up.pipe(client);
        up.once("close", () => client.destroy());
        client.once("close", () => pair.frozen || up.destroy());
      });
    };
    attempt(0);
  });
  return new Promise((resolve) =>
    lb.server.listen(0, "127.0.0.1", () => {
      lb.url = `http://127.0.0.1:${lb.server.address().port}`;
      resolve(lb);
    }),
  );
}

describe("clients on different nodes", () => {
  it("seed 004: a customer on A and an agent on B chat both ways; REST on C sees it", async () => {
    const customerToken = token(uid("cust"));
    const created = await api("POST", "/api/v1/chat/sessions", { subject: "cluster" }, customerToken, C);
    assert.equal(created.status, 201, created.text);
    const id = created.json.data.id;
    const customer = await connect("/", { ...ws, auth: { token: customerToken } }, A);
    const agent = await connect("/", { ...ws, auth: { token: token(uid("agent"), "agent") } }, B);
    await request(customer, "join_session", { session_id: id });
    await request(agent, "join_session", { session_id: id });
    customer.emit("send_message", { session_id: id, content: "from A", temp_id: "t1" });
    await next(agent, "new_message", (d) => d.message.content === "from A");
    agent.emit("send_message", { session_id: id, content: "from B", temp_id: "t2" });
    await next(customer, "new_message", (d) => d.message.content === "from B");
    const history = await api("GET", `/api/v1/chat/sessions/${id}/messages`, undefined, customerToken, C);
    assert.equal(history.status, 200, history.text);
    const texts = history.json.data.map((m) => m.content);
    assert.deepEqual(texts.slice(-2), ["from A", "from B"]);
  });

  it("seed 003: a guest on A and an admin on B chat both ways", async () => {
    const guest = await connect("/support", { ...ws, auth: {} }, A);
    const { guestId } = await next(guest, "connection:success");
    const opened = await api("POST", "/api/support/conversation/guest", { guestId }, undefined, C);
    const conversationId = opened.json.conversation.id;
    const admin = await connect("/support", { ...ws, auth: { token: token(uid("admin"), "admin") } }, B);
    guest.emit("conversation:join", { conversationId });
    await next(guest, "conversation:joined");
    admin.emit("conversation:join", { conversationId });
    await next(admin, "conversation:joined");
    guest.emit("message:send", { conversationId, message: "guest on A" });
    await next(admin, "message:received", (m) => m.message === "guest on A");
    await next(admin, "conversation:new_message", (n) => n.message.message === "guest on A");
    admin.emit("typing:start", { conversationId });
    await next(guest, "typing:start");
    admin.emit("message:send", { conversationId, message: "admin on B" });
    await next(guest, "message:received", (m) => m.message === "admin on B");
  });

  it("seed 001: a customer on A and support staff on B chat both ways", async () => {
    const customerToken = token(uid("cust"));
    const created = await api("POST", "/api/v1/chat/sessions", { subject: "ticket" }, customerToken, C);
    const ticketId = created.json.data.id;
    const customer = await connect("/", ws, A);
    customer.emit("authenticate", { token: customerToken });
    await next(customer, "authenticated");
    const staff = await connect("/", ws, B);
    staff.emit("authenticate", { token: token(uid("staff"), "support") });
    await next(staff, "authenticated");
    customer.emit("join_ticket", { ticketId });
    await next(customer, "joined_ticket");
    staff.emit("join_ticket", { ticketId });
    await next(staff, "joined_ticket");
    await next(customer, "user_joined_ticket");
    customer.emit("send_message", { ticketId, message: "ticket from A" });
    await next(staff, "new_message", (d) => d.data.message === "ticket from A");
    staff.emit("send_message", { ticketId, message: "ticket from B" });
    await next(customer, "new_message", (d) => d.data.message === "ticket from B");
  });
});

describe("a node dies", () => {
  it("its clients come back on another node, recovered, with every missed message once", async () => {
    const lb = await balancer([A, B]);
    const opts = { ...ws, reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 };
    const customerToken = token(uid("cust"));
    const created = await api("POST", "/api/v1/chat/sessions", { subject: "failover" }, customerToken, C);
    const id = created.json.data.id;
    const session = await connect("/", { ...opts, auth: { token: customerToken } }, lb.url);
    await request(session, "join_session", { session_id: id });
    const guest = await connect("/support", { ...opts, auth: {} }, lb.url);
    const { guestId } = await next(guest, "connection:success");
    const conversationId = (await api("POST", "/api/support/conversation/guest", { guestId }, undefined, C)).json
      .conversation.id;
    await request(guest, "conversation:join", { conversationId });

    const agent = token(uid("agent"), "agent");
    const post = async (conversation, content) => {
      const res = await api("POST", `/api/v1/chat/sessions/${conversation}/messages`, { content }, agent, C);
      assert.equal(res.status, 201, res.text);
    };
    await post(id, "before");
    await post(conversationId, "before");
    await next(session, "new_message", (d) => d.message.content === "before");
    await next(guest, "message:received", (m) => m.message === "before");
    // The live sockets' state reaches Redis within a quarter of a second.
    await new Promise((r) => setTimeout(r, 600));

    const back = [session, guest].map((s) => new Promise((r) => s.once("connect", r)));
    process.kill(PID_A, "SIGKILL");
    for (const text of ["while A was dead 1", "while A was dead 2"]) {
      await post(id, text);
      await post(conversationId, text);
    }
    await Promise.all(back);
    assert.equal(session.recovered, true, "the seed 004 socket recovered on B");
    assert.equal(guest.recovered, true, "the seed 003 socket recovered on B");
    await post(id, "after");
    await post(conversationId, "after");
    for (const text of ["while A was dead 1", "while A was dead 2", "after"]) {
      await next(session, "new_message", (d) => d.message.content === text);
      await next(guest, "message:received", (m) => m.message === text);
    }
    await none(session, "new_message");
    await none(guest, "message:received");
    lb.server.close();
  });
});

describe("a partition", () => {
  it("the node that lost a client unseen cannot overwrite the state another node recovered", async () => {
    const lb = await balancer([B, C]);
    const opts = { ...ws, reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 };
    const guest = await connect("/support", { ...opts, auth: {} }, lb.url);
    const { guestId } = await next(guest, "connection:success");
    // A guest has one open conversation of each type.
    const open = async (type) =>
      (await api("POST", "/api/support/conversation/guest", { guestId, type }, undefined, C)).json.conversation.id;
    const agent = token(uid("agent"), "agent");
    const post = async (conversation, content) => {
      const res = await api("POST", `/api/v1/chat/sessions/${conversation}/messages`, { content }, agent, C);
      assert.equal(res.status, 201, res.text);
    };
    const first = await open("general");
    await request(guest, "conversation:join", { conversationId: first });
    await post(first, "one");
    await next(guest, "message:received", (m) => m.message === "one");
    await new Promise((r) => setTimeout(r, 600));

    // Cut off from B without B knowing; the client comes back on C, recovered.
    let back = new Promise((r) => guest.once("connect", r));
    lb.freeze();
    lb.first = 1;
    guest.io.engine.close();
    await back;
    assert.equal(guest.recovered, true);
    // On C it joins a second conversation; B's stale socket still hears the first.
    const second = await open("call_request");
    await request(guest, "conversation:join", { conversationId: second });
    await post(first, "two");
    await next(guest, "message:received", (m) => m.message === "two");
    await new Promise((r) => setTimeout(r, 600));
    // The copy in Redis is C's (with the second conversation), though B's stale
    // socket heard "two" too and tried to store its own.
    const kept = (suffix) =>
      execSync(`redis-cli -u ${REDIS} --scan --pattern '*:sio:${guest._pid}${suffix}'`)
        .toString()
        .trim();
    const get = (key) => execSync(`redis-cli -u ${REDIS} get ${key}`).toString().trim();
    assert.equal(get(kept(":node")), "sio-c");
    assert.deepEqual(Object.keys(JSON.parse(get(kept(""))).rooms).sort(), [first, second].sort());

    // Lost again, and back on B: what B recovers is that state.
    back = new Promise((r) => guest.once("connect", r));
    lb.first = 0;
    guest.io.engine.close();
    await post(second, "in the second, while away");
    await back;
    assert.equal(guest.recovered, true);
    await next(guest, "message:received", (m) => m.message === "in the second, while away");
    lb.server.close();
  });
});
