// Seed 004: support sessions on namespace `/`, scripted the way its ChatClient class
// uses them, over each transport.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { MODES, api, closeAll, connect, next, none, request, token, transport, uid } from "./helpers.js";

after(closeAll);

async function openSession(customerToken) {
  const res = await api(
    "POST",
    "/api/v1/chat/sessions",
    { subject: "Need help with order", category: "order_issue", priority: "high", initial_message: "My order is delayed" },
    customerToken,
  );
  assert.equal(res.status, 201, res.text);
  return res.json.data;
}

for (const mode of MODES) {
  describe(`seed 004 sessions over ${mode.name}`, () => {
    it("customer and agent: join, accept, messages, typing, reads, presence, close", async () => {
      const customerId = uid("cust");
      const customerToken = token(customerId);
      const session = await openSession(customerToken);

      const customer = await connect("/", { ...mode.opts, auth: { token: customerToken } });
      customer.emit("join_session", { session_id: session.id });
      const joined = await next(customer, "session_joined");
      assert.equal(joined.session.id, session.id);
      assert.equal(joined.session.status, "waiting");
      assert.deepEqual(joined.messages.map((m) => m.content), ["My order is delayed"]);
      assert.equal(joined.messages[0].sender_role, "customer");
      assert.deepEqual(joined.participants.map((p) => p.user_id), [customerId]);

      const agentId = uid("agent");
      const agent = await connect("/", { ...mode.opts, auth: { token: token(agentId, "agent", "Agent Ann") } });
      agent.emit("join_session", { session_id: session.id });
      const agentJoined = await next(agent, "session_joined");
      assert.deepEqual(agentJoined.participants.map((p) => p.user_id).sort(), [agentId, customerId].sort());
      assert.deepEqual(await next(customer, "user_joined"), {
        session_id: session.id,
        user_id: agentId,
        role: "agent",
        name: "Agent Ann",
      });

      agent.emit("accept_chat", { session_id: session.id });
      for (const s of [customer, agent]) {
        const accepted = await next(s, "chat_accepted");
        assert.equal(accepted.agent_id, agentId);
        assert.equal(accepted.agent_name, "Agent Ann");
        assert.equal(accepted.session.status, "active");
        assert.deepEqual(await next(s, "session_status_changed"), {
          session_id: session.id,
          status: "active",
          agent_id: agentId,
        });
      }

      const tempId = `temp-${Date.now()}`;
      customer.emit("send_message", { session_id: session.id, content: "Any news?", message_type: "text", temp_id: tempId });
      const sent = await next(customer, "message_sent");
      assert.equal(sent.temp_id, tempId);
      assert.ok(sent.message_id);
      assert.match(sent.sent_at, /Z$/);
      for (const s of [customer, agent]) {
        const { message } = await next(s, "new_message", (d) => d.message.content === "Any news?");
        assert.equal(message.id, sent.message_id);
        assert.equal(message.sender_id, customerId);
        assert.equal(message.temp_id, tempId);
      }
      // A resend with the same temp_id is the same message, delivered once.
      customer.emit("send_message", { session_id: session.id, content: "Any news?", temp_id: tempId });
      assert.equal((await next(customer, "message_sent")).message_id, sent.message_id);
      await none(agent, "new_message", (d) => d.message.content === "Any news?");

      agent.emit("typing", { session_id: session.id });
      assert.deepEqual(await next(customer, "user_typing"), {
        session_id: session.id,
        user_id: agentId,
        user_name: "Agent Ann",
      });
      agent.emit("stop_typing", { session_id: session.id });
      assert.deepEqual(await next(customer, "typing_stopped"), { session_id: session.id, user_id: agentId });

      agent.emit("mark_as_read", { session_id: session.id, message_ids: [sent.message_id] });
      const read = await next(customer, "messages_read");
      assert.equal(read.session_id, session.id);
      assert.equal(read.user_id, agentId);
      assert.deepEqual(read.message_ids, [sent.message_id]);

      agent.emit("leave_session", { session_id: session.id });
      assert.deepEqual(await next(customer, "user_left"), { session_id: session.id, user_id: agentId, role: "agent" });

      customer.emit("close_chat", { session_id: session.id });
      const closed = await next(customer, "chat_closed");
      assert.equal(closed.closed_by, customerId);
      assert.equal(closed.session.status, "closed");
      assert.equal((await next(customer, "session_status_changed", (d) => d.status === "closed")).session_id, session.id);
      // The agent left the room but, as staff, still hears of status changes.
      await next(agent, "session_status_changed", (d) => d.status === "closed");

      await transport(customer, mode.final);
    });

    it("refuses what it must, in the `error` event", async () => {
      await assert.rejects(
        connect("/", { ...mode.opts, auth: { token: "bad.token.here" } }),
        (e) => /token|auth/i.test(e.message) && typeof e.data.code === "string",
      );

      const ownerToken = token(uid("owner"));
      const session = await openSession(ownerToken);
      const stranger = await connect("/", { ...mode.opts, auth: { token: token(uid("stranger")) } });
      stranger.emit("join_session", { session_id: session.id });
      assert.match((await next(stranger, "error")).message, /denied|not found/i);
      stranger.emit("send_message", { session_id: session.id, content: "hi", temp_id: "t1" });
      const refused = await next(stranger, "error");
      assert.equal(refused.temp_id, "t1");
      stranger.emit("join_session", {});
      assert.equal((await next(stranger, "error")).message, "session_id is required");
      stranger.emit("mark_as_read", { session_id: session.id, message_ids: "all" });
      assert.equal((await next(stranger, "error")).message, "message_ids must be an array");

      // Without a handshake token, seed 004's events are refused.
      const anonymous = await connect("/", mode.opts);
      anonymous.emit("join_session", { session_id: session.id });
      assert.equal((await next(anonymous, "error")).message, "Authentication required");

      const owner = await connect("/", { ...mode.opts, auth: { token: ownerToken } });
      const empty = await request(owner, "send_message", { session_id: session.id, content: "", temp_id: "t2" });
      assert.equal(empty.temp_id, "t2");
      assert.ok(empty.message);
      const ok = await request(owner, "join_session", { session_id: session.id });
      assert.equal(ok.session.id, session.id);
    });
  });
}
