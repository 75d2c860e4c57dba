// The server API (an API key, `Authorization: Bearer sk_…`) posting into a conversation:
// the bot's message reaches a seed 003 widget, a native /ws customer tab and a seed 004
// agent live, and history has it once.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { api, closeAll, connect, nativeWs, next, token, uid } from "./helpers.js";

after(closeAll);

describe("server API", () => {
  it("a bot's message reaches the widget, a native tab and an agent, once", async () => {
    const admin = token(uid("admin"), "admin", "Ann");
    const made = await api("POST", "/api/admin/api-keys", { name: "Order bot", scopes: ["messages:write"] }, admin);
    assert.equal(made.status, 201, made.text);
    const key = made.json.data.key;
    assert.match(key, /^sk_/);

    const guest = await connect("/support", { auth: {} });
    const { guestId } = await next(guest, "connection:success");
    const opened = await api("POST", "/api/support/conversation/guest", { guestId });
    const id = opened.json.conversation.id;
    guest.emit("conversation:join", { conversationId: id });
    await next(guest, "conversation:joined");

    const tab = await nativeWs();
    tab.send({ type: "register", sessionId: id, guestId });
    await tab.next("registered");

    const agent = await connect("/", { auth: { token: token(uid("agent"), "agent", "Bo") } });
    agent.emit("join_session", { session_id: id });
    await next(agent, "session_joined");

    const headers = { "idempotency-key": `order-42-shipped-${id}` };
    const post = () =>
      fetch(`${process.env.SB_URL}/api/server/v1/conversations/${id}/messages`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ text: "Your order #42 has shipped", name: "Order bot" }),
      });
    const first = await post();
    assert.equal(first.status, 201, await first.clone().text());
    const posted = (await first.json()).data;
    assert.equal(posted.senderKind, "bot");
    assert.equal(posted.senderName, "Order bot");

    const w = await next(guest, "message:received", (m) => m.message === "Your order #42 has shipped");
    assert.equal(w.senderType, "admin");
    assert.equal(w.senderName, "Order bot");
    assert.equal(w.seq, posted.seq);
    const n = await tab.next("staff_reply", (f) => f.message === "Your order #42 has shipped");
    assert.equal(n.staffName, "Order bot");
    assert.equal(n.senderType, "bot");
    const a = await next(agent, "new_message", (d) => d.message.content === "Your order #42 has shipped");
    assert.equal(a.message.sender_role, "agent");

    // The same Idempotency-Key again: the original, nothing new delivered.
    const again = await post();
    assert.equal(again.status, 200);
    assert.equal(again.headers.get("idempotent-replayed"), "true");
    assert.equal((await again.json()).data.id, posted.id);
    const history = await api("GET", `/api/support/conversation/${id}/messages?guestId=${guestId}`);
    assert.equal(history.status, 200, history.text);
    const copies = history.json.messages.filter((m) => m.message === "Your order #42 has shipped");
    assert.equal(copies.length, 1, history.text);
    tab.close();
  });
});
