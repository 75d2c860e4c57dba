// One conversation on every surface at once (a seed 003 widget, a seed 004 agent, a
// native /ws agent, REST), and reconnects that lose nothing.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { MODES, api, closeAll, connect, nativeWs, next, request, token, uid } from "./helpers.js";

after(closeAll);

describe("one conversation, every surface", () => {
  it("widget, 004 agent, native agent and REST see each other's messages, typing, reads and status, in one order", async () => {
    const guest = await connect("/support", { auth: {} });
    const { guestId } = await next(guest, "connection:success");
    const opened = await api("POST", "/api/support/conversation/guest", { guestId });
    const id = opened.json.conversation.id;
    guest.emit("conversation:join", { conversationId: id });
    await next(guest, "conversation:joined");

    const annId = uid("ann");
    const ann = await connect("/", { auth: { token: token(annId, "agent", "Ann") } });
    ann.emit("join_session", { session_id: id });
    await next(ann, "session_joined");

    const bobId = uid("bob");
    const bobToken = token(bobId, "staff", "Bob");
    const bob = await nativeWs();
    bob.send({ type: "register_admin", token: bobToken });
    await bob.next("admin_registered");
    bob.send({ type: "join", sessionId: id });
    await bob.next("joined");

    ann.emit("accept_chat", { session_id: id });
    await next(ann, "chat_accepted");
    const accepted = await next(guest, "conversation:updated", (c) => c.status === "active");
    assert.equal(accepted.adminId, annId);
    await bob.next("conversation_updated", (f) => f.conversation.status === "active");

    guest.emit("message:send", { conversationId: id, message: "from the widget" });
    await new Promise((r) => setTimeout(r, 20));
    ann.emit("send_message", { session_id: id, content: "from 004", temp_id: "t-1" });
    await new Promise((r) => setTimeout(r, 20));
    bob.send({ type: "staff_message", sessionId: id, content: "from native" });
    await new Promise((r) => setTimeout(r, 20));
    const rest = await api("POST", `/api/v1/chat/sessions/${id}/messages`, { content: "from REST" }, bobToken);
    assert.equal(rest.status, 201, rest.text);

    const texts = ["from the widget", "from 004", "from native", "from REST"];
    const widget = [];
    const agent = [];
    const native = [];
    for (const text of texts) {
      const m = await next(guest, "message:received", (m) => m.message === text);
      widget.push([m.seq, m.message]);
      const n = await next(ann, "new_message", (d) => d.message.content === text);
      agent.push([n.message.seq, n.message.content]);
      // The native agent's own message comes back to it as its ack.
      const f =
        text === "from native"
          ? await bob.next("message_ack")
          : await bob.next(text === "from the widget" ? "customer_message" : "staff_reply", (f) => f.message === text);
      native.push([f.seq, text]);
    }
    const bySeq = (a) => [...a].sort((x, y) => x[0] - y[0]).map((x) => x[1]);
    assert.deepEqual(bySeq(widget), texts);
    assert.deepEqual(widget, agent);
    assert.deepEqual(widget, native);

    guest.emit("typing:start", { conversationId: id });
    assert.equal((await next(ann, "user_typing")).user_id, guestId);
    await bob.next("typing", (f) => f.isTyping === true);
    ann.emit("typing", { session_id: id });
    assert.equal((await next(guest, "typing:start")).senderId, annId);

    ann.emit("mark_as_read", { session_id: id });
    const read = await next(guest, "message:read");
    assert.equal(read.readerId, annId);
    await bob.next("messages_read", (f) => f.readerId === annId);

    ann.emit("close_chat", { session_id: id });
    await next(guest, "conversation:updated", (c) => c.status === "closed");
    await bob.next("conversation_updated", (f) => f.conversation.status === "closed");
    const detail = await api("GET", `/api/v1/chat/sessions/${id}`, undefined, bobToken);
    assert.equal(detail.json.data.status, "closed");
    bob.close();
  });
});

for (const mode of MODES) {
  describe(`reconnect over ${mode.name}`, () => {
    it("a lost connection is recovered: rooms kept, missed messages delivered once", async () => {
      const guest = await connect("/support", {
        ...mode.opts,
        auth: {},
        reconnection: true,
        reconnectionDelay: 50,
        reconnectionDelayMax: 100,
      });
      const { guestId } = await next(guest, "connection:success");
      const opened = await api("POST", "/api/support/conversation/guest", { guestId });
      const id = opened.json.conversation.id;
      await request(guest, "conversation:join", { conversationId: id });
      const staff = token(uid("agent"), "agent");
      const post = async (content) => {
        const res = await api("POST", `/api/v1/chat/sessions/${id}/messages`, { content }, staff);
        assert.equal(res.status, 201, res.text);
      };
      await post("before");
      await next(guest, "message:received", (m) => m.message === "before");

      // Kill the connection under the client; it reconnects by itself.
      const reconnected = new Promise((r) => guest.once("connect", r));
      guest.io.engine.close();
      await post("while away 1");
      await post("while away 2");
      await reconnected;
      assert.equal(guest.recovered, true, "the server recovered the socket's state");
      await post("after");

      for (const text of ["while away 1", "while away 2", "after"]) {
        await next(guest, "message:received", (m) => m.message === text);
      }
      await new Promise((r) => setTimeout(r, 200));
      const again = guest.received.filter((r) => r.event === "message:received");
      assert.deepEqual(again, [], "nothing delivered twice");
    });

    it("a socket that missed nothing gets nothing; one that missed 300 gets all 300, once, in order", async () => {
      const opts = { ...mode.opts, auth: {}, reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 };
      const guest = await connect("/support", opts);
      const { guestId } = await next(guest, "connection:success");
      const id = (await api("POST", "/api/support/conversation/guest", { guestId })).json.conversation.id;
      // History from before the socket joined is not the socket's to replay.
      for (const content of ["old 1", "old 2"]) {
        await api("POST", `/api/v1/chat/sessions/${id}/messages`, { content }, token(uid("agent"), "agent"));
      }
      await request(guest, "conversation:join", { conversationId: id });
      let back = new Promise((r) => guest.once("connect", r));
      guest.io.engine.close();
      await back;
      assert.equal(guest.recovered, true);
      await next(guest, "connection:success");
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(guest.received.filter((r) => r.event === "message:received"), []);

      back = new Promise((r) => guest.once("connect", r));
      guest.io.engine.close();
      // Each post from its own agent: one identity's post rate is limited.
      for (let i = 0; i < 300; i++) {
        const res = await api("POST", `/api/v1/chat/sessions/${id}/messages`, { content: `m${i}` }, token(uid("agent"), "agent"));
        assert.equal(res.status, 201, res.text);
      }
      await back;
      assert.equal(guest.recovered, true);
      const got = [];
      for (let i = 0; i < 300; i++) got.push((await next(guest, "message:received")).message);
      assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => `m${i}`));
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(guest.received.filter((r) => r.event === "message:received"), []);
    });

    it("seed 004 and 001 sockets recover too; a deliberate disconnect does not", async () => {
      const customerToken = token(uid("cust"));
      const created = await api("POST", "/api/v1/chat/sessions", { subject: "x" }, customerToken);
      const id = created.json.data.id;
      const opts = { ...mode.opts, reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 };

      const session = await connect("/", { ...opts, auth: { token: customerToken } });
      await request(session, "join_session", { session_id: id });
      const ticket = await connect("/", opts);
      await request(ticket, "authenticate", { token: customerToken });
      await request(ticket, "join_ticket", { ticketId: id });

      const back = [session, ticket].map((s) => new Promise((r) => s.once("connect", r)));
      session.io.engine.close();
      ticket.io.engine.close();
      const res = await api("POST", `/api/v1/chat/sessions/${id}/messages`, { content: "missed" }, token(uid("a"), "agent"));
      assert.equal(res.status, 201, res.text);
      await Promise.all(back);
      assert.equal(session.recovered, true);
      assert.equal(ticket.recovered, true);
      await next(session, "new_message", (d) => d.message.content === "missed");
      await next(ticket, "new_message", (d) => d.data.message === "missed");

      // Recovery is for the same identity only: another token starts over.
      const other = new Promise((r) => session.once("connect", r));
      session.auth = { token: token(uid("someone-else")) };
      session.io.engine.close();
      await other;
      assert.equal(session.recovered, false);

      // After `disconnect()` the client starts over: not recovered, rooms gone.
      ticket.disconnect();
      ticket.connect();
      await new Promise((r) => ticket.once("connect", r));
      assert.equal(ticket.recovered, false);
      ticket.emit("join_ticket", { ticketId: id });
      assert.equal((await next(ticket, "error")).message, "User not authenticated");
    });
  });
}
