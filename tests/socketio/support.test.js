// Seed 003: the support widget on namespace `/support`, scripted the way its frontend
// uses it, over each transport.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { MODES, api, closeAll, connect, next, none, request, token, transport, uid } from "./helpers.js";

after(closeAll);

for (const mode of MODES) {
  describe(`seed 003 /support over ${mode.name}`, () => {
    it("guest and admin chat: join, messages, admin-wide notices, typing, reads, leave", async () => {
      // The widget connects with no guest id: the server issues one.
      const guest = await connect("/support", { ...mode.opts, auth: {} });
      const hello = await next(guest, "connection:success");
      assert.equal(hello.type, "guest");
      assert.match(hello.guestId, /^guest_\d+_[0-9a-f]{32}$/);
      const guestId = hello.guestId;

      // It opens its conversation over REST as that guest.
      const opened = await api("POST", "/api/support/conversation/guest", { guestId, subject: "Help" });
      assert.equal(opened.status, 200, opened.text);
      const conversationId = opened.json.conversation.id;

      const adminId = uid("admin");
      const admin = await connect("/support", { ...mode.opts, auth: { token: token(adminId, "admin") } });
      assert.deepEqual(await next(admin, "connection:success"), { type: "admin", adminId });

      guest.emit("conversation:join", { conversationId });
      assert.deepEqual(await next(guest, "conversation:joined"), { conversationId });
      admin.emit("conversation:join", { conversationId });
      assert.deepEqual(await next(admin, "conversation:joined"), { conversationId });

      guest.emit("message:send", { conversationId, message: "Hello, I need help" });
      const received = await next(guest, "message:received");
      assert.equal(received.conversationId, conversationId);
      assert.equal(received.senderType, "guest");
      assert.equal(received.guestId, guestId);
      assert.equal(received.senderId, null);
      assert.equal(received.message, "Hello, I need help");
      assert.equal(received.messageType, "text");
      assert.equal(received.isRead, false);
      assert.match(received.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.deepEqual(await next(admin, "message:received"), received);
      const notice = await next(admin, "conversation:new_message");
      assert.deepEqual(notice, { conversationId, message: received });

      admin.emit("typing:start", { conversationId });
      assert.deepEqual(await next(guest, "typing:start"), { conversationId, senderId: adminId });
      admin.emit("typing:stop", { conversationId });
      assert.deepEqual(await next(guest, "typing:stop"), { conversationId, senderId: adminId });

      admin.emit("message:send", { conversationId, message: "How can I help?" });
      const reply = await next(guest, "message:received", (m) => m.senderType === "admin");
      assert.equal(reply.senderId, adminId);
      assert.equal(reply.message, "How can I help?");

      guest.emit("message:read", { messageId: reply.id });
      const read = await next(admin, "message:read");
      assert.equal(read.conversationId, conversationId);
      assert.equal(read.readerId, guestId);
      assert.equal(read.upToSeq, reply.seq);

      guest.emit("conversation:leave", { conversationId });
      assert.deepEqual(await next(guest, "conversation:left"), { conversationId });
      admin.emit("message:send", { conversationId, message: "still there?" });
      await next(admin, "message:received", (m) => m.message === "still there?");
      await none(guest, "message:received");

      await transport(guest, mode.final);
      await transport(admin, mode.final);
    });

    it("a guest keeps its id across connections; a signed-in user is a user", async () => {
      const first = await connect("/support", { ...mode.opts, auth: {} });
      const { guestId } = await next(first, "connection:success");
      first.disconnect();
      const again = await connect("/support", { ...mode.opts, auth: { guestId } });
      assert.deepEqual(await next(again, "connection:success"), { type: "guest", guestId, issued: false });

      const userId = uid("user");
      const user = await connect("/support", { ...mode.opts, auth: { token: token(userId) } });
      assert.deepEqual(await next(user, "connection:success"), { type: "user", userId });
    });

    it("refuses bad auth, foreign conversations and bad events with clear errors", async () => {
      await assert.rejects(
        connect("/support", { ...mode.opts, auth: { token: "not-a-jwt" } }),
        (e) => e.message.length > 0 && e.data && typeof e.data.code === "string",
      );
      await assert.rejects(
        connect("/support", { ...mode.opts, auth: { guestId: "guest_1_ffffffffffffffffffffffffffffffff" } }),
        (e) => typeof e.message === "string" && e.data.code !== undefined,
      );

      const owner = await connect("/support", { ...mode.opts, auth: { token: token(uid("owner")) } });
      await next(owner, "connection:success");
      const mine = await api("GET", "/api/support/conversation?type=general", undefined, owner.auth.token);
      assert.equal(mine.status, 200, mine.text);
      const conversationId = mine.json.id;

      const stranger = await connect("/support", { ...mode.opts, auth: {} });
      await next(stranger, "connection:success");
      stranger.emit("conversation:join", { conversationId });
      assert.match((await next(stranger, "message:error")).error, /denied|not found/i);
      stranger.emit("message:send", { conversationId, message: "let me in" });
      assert.ok((await next(stranger, "message:error")).error);
      stranger.emit("message:send", { message: "where?" });
      assert.equal((await next(stranger, "message:error")).error, "conversationId is required");
      stranger.emit("no:such:event", {});
      assert.equal((await next(stranger, "message:error")).error, "Unknown event");

      // Clients may not set server-side message types.
      owner.emit("conversation:join", { conversationId });
      await next(owner, "conversation:joined");
      owner.emit("message:send", { conversationId, message: "x", messageType: "auth_code" });
      assert.match((await next(owner, "message:error")).error, /message type/);
      owner.emit("message:send", { conversationId, message: "   " });
      assert.ok((await next(owner, "message:error")).error);

      // With an ack, the answer comes back to the callback too.
      const acked = await request(owner, "message:send", { conversationId, message: "acked" });
      assert.equal(acked.message, "acked");
      const refused = await request(owner, "conversation:join", { conversationId: "nope-nope-nope" });
      assert.ok(refused.error);
    });
  });
}
