// The team desk on the Socket.IO dialects (seeds 001, 003, 004), which have no word
// for it. Private notes: no socket ever gets one, live or replayed after a reconnect,
// and no history of theirs holds one, for the customer or for staff. Labels: no
// socket hears of a change.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { api, closeAll, connect, next, request, token, uid } from "./helpers.js";

after(closeAll);

const SECRET = "note: customer is on a refund watch list";
const mentions = (v) => JSON.stringify(v).includes(SECRET);
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

describe("the team desk on the seeds' Socket.IO dialects", () => {
  it("notes reach no socket, live or recovered, nor any history; label changes reach none", async () => {
    const customerToken = token(uid("cust"));
    const created = await api("POST", "/api/v1/chat/sessions", { subject: "refund" }, customerToken);
    const id = created.json.data.id;
    const staff = token(uid("agent"), "agent", "Ann");
    const say = async (path, body) => {
      const res = await api("POST", path, body, staff);
      assert.equal(res.status, 201, res.text);
      return res.json;
    };
    const opts = { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 };

    // Every dialect's socket in the conversation: the customer's three, and a seed 004 agent.
    const session = await connect("/", { ...opts, auth: { token: customerToken } });
    await request(session, "join_session", { session_id: id });
    const ticket = await connect("/", opts);
    await request(ticket, "authenticate", { token: customerToken });
    await request(ticket, "join_ticket", { ticketId: id });
    const widget = await connect("/support", { ...opts, auth: { token: customerToken } });
    await request(widget, "conversation:join", { conversationId: id });
    const agent = await connect("/", { ...opts, auth: { token: staff } });
    await request(agent, "join_session", { session_id: id });
    const sockets = [session, ticket, widget, agent];

    // Live: the note, then a reply; every socket gets the reply and nothing before it.
    const note = await say(`/api/desk/conversations/${id}/notes`, { content: SECRET });
    assert.equal(note.data.private, true);
    await say(`/api/v1/chat/sessions/${id}/messages`, { content: "live reply" });
    await next(session, "new_message", (d) => d.message.content === "live reply");
    await next(ticket, "new_message", (d) => d.data.message === "live reply");
    await next(widget, "message:received", (m) => m.message === "live reply");
    await next(agent, "new_message", (d) => d.message.content === "live reply");

    // Recovered: a note written while the sockets were away is not replayed.
    const back = sockets.map((s) => new Promise((r) => s.once("connect", r)));
    for (const s of sockets) s.io.engine.close();
    await say(`/api/desk/conversations/${id}/notes`, { content: SECRET });
    await say(`/api/v1/chat/sessions/${id}/messages`, { content: "missed reply" });
    await Promise.all(back);
    for (const s of sockets) assert.equal(s.recovered, true);
    await next(session, "new_message", (d) => d.message.content === "missed reply");
    await next(ticket, "new_message", (d) => d.data.message === "missed reply");
    await next(widget, "message:received", (m) => m.message === "missed reply");
    await next(agent, "new_message", (d) => d.message.content === "missed reply");
    await pause(200);

    // Histories: seed 001's page (with its total), seed 004's join, for both sides.
    ticket.emit("get_messages", { ticketId: id, limit: 50 });
    const page = await next(ticket, "messages");
    assert.deepEqual(page.messages.map((m) => m.message), ["live reply", "missed reply"]);
    assert.equal(page.total, 2);
    for (const s of [session, agent]) {
      s.emit("join_session", { session_id: id });
      const joined = await next(s, "session_joined", (j) => j.messages.length > 0);
      assert.deepEqual(joined.messages.map((m) => m.content), ["live reply", "missed reply"]);
    }

    // Seed 003 reads by message id: a note's id is no message there.
    widget.emit("message:read", { messageId: note.data.id });
    assert.equal((await next(widget, "message:error")).error, "Message not found");

    for (const s of sockets) {
      const leaked = s.received.filter((r) => mentions(r));
      assert.deepEqual(leaked, [], "no socket got a note");
    }

    // A label change is staff's alone, and the seeds' staff clients have no word for it.
    for (const s of sockets) s.received.length = 0;
    const labelled = await api("PUT", `/api/desk/conversations/${id}/labels/vip`, undefined, staff);
    assert.equal(labelled.status, 200, labelled.text);
    await say(`/api/v1/chat/sessions/${id}/messages`, { content: "after the label" });
    await next(agent, "new_message", (d) => d.message.content === "after the label");
    await next(widget, "message:received", (m) => m.message === "after the label");
    await pause(100);
    for (const s of sockets) {
      // Only the message itself (its one event per dialect) came.
      const told = s.received.filter((r) => !["new_message", "message:received"].includes(r.event));
      assert.deepEqual(told, [], "no socket heard of the label");
    }
  });
});
