// Seed 001: ticket rooms on namespace `/`, scripted the way its ChatClient and React
// hook use them (connect, then `authenticate`), over each transport.
import { describe, it, after } from "node:test";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";
import { MODES, URL, api, closeAll, connect, next, none, request, token, transport, uid } from "./helpers.js";

after(closeAll);

// A 1×1 PNG.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

async function openTicket(customerToken) {
  const res = await api("POST", "/api/v1/chat/sessions", { subject: "Ticket" }, customerToken);
  assert.equal(res.status, 201, res.text);
  return res.json.data.id;
}

async function authenticated(opts, userToken) {
  const socket = await connect("/", opts);
  socket.emit("authenticate", { token: userToken });
  const { user } = await next(socket, "authenticated");
  return { socket, user };
}

for (const mode of MODES) {
  describe(`seed 001 tickets over ${mode.name}`, () => {
    it("authenticate, join, messages with attachments, history, typing, presence, leave", async () => {
      const customerId = uid("cust");
      const customerToken = token(customerId, "customer", "Carla");
      const ticketId = await openTicket(customerToken);

      const customer = await connect("/", mode.opts);
      customer.emit("join_ticket", { ticketId });
      assert.equal((await next(customer, "error")).message, "User not authenticated");
      customer.emit("authenticate", { token: "forged" });
      assert.ok((await next(customer, "authentication_error")).message);
      customer.emit("authenticate", { token: customerToken });
      const { user } = await next(customer, "authenticated");
      assert.deepEqual(user, { id: customerId, name: "Carla", role: "customer" });

      customer.emit("join_ticket", { ticketId });
      assert.deepEqual(await next(customer, "joined_ticket"), { ticketId });
      // A malformed send_message is refused in seed 001's words and changes nothing.
      customer.emit("send_message", { message: "where to?" });
      assert.equal((await next(customer, "error")).message, "ticketId is required");

      const staffId = uid("staff");
      const { socket: staff } = await authenticated(mode.opts, token(staffId, "support", "Sam"));
      staff.emit("join_ticket", { ticketId });
      await next(staff, "joined_ticket");
      const joined = await next(customer, "user_joined_ticket");
      assert.equal(joined.userId, staffId);
      assert.equal(joined.userName, "Sam");

      customer.emit("send_message", { ticketId, message: "Hello" });
      for (const s of [customer, staff]) {
        const { data } = await next(s, "new_message", (d) => d.data.message === "Hello");
        assert.equal(data.ticketId, ticketId);
        assert.equal(data.senderId, customerId);
        assert.deepEqual(data.attachments, []);
      }

      // Base64 attachments, as the seed sends them…
      customer.emit("send_message", {
        ticketId,
        message: "Check this file!",
        attachments: [{ name: "dot.png", type: "image/png", data: PNG.toString("base64") }],
      });
      const withFile = (await next(staff, "new_message", (d) => d.data.message === "Check this file!")).data;
      assert.equal(withFile.attachments.length, 1);
      assert.equal(withFile.attachments[0].type, "image/png");
      assert.equal(withFile.attachments[0].size, PNG.length);
      const download = await fetch(URL + withFile.attachments[0].url, {
        headers: { authorization: `Bearer ${customerToken}` },
      });
      assert.equal(download.status, 200);
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), PNG);

      // …and binary ones (a Buffer goes as a Socket.IO binary attachment).
      customer.emit("send_message", {
        ticketId,
        message: "binary",
        attachments: [{ name: "dot.png", type: "image/png", data: PNG }],
      });
      const binary = (await next(staff, "new_message", (d) => d.data.message === "binary")).data;
      assert.equal(binary.attachments[0].size, PNG.length);

      customer.emit("get_messages", { ticketId, limit: 2, offset: 1 });
      const page = await next(customer, "messages");
      assert.equal(page.ticketId, ticketId);
      assert.deepEqual(page.messages.map((m) => m.message), ["Check this file!", "binary"]);
      assert.equal(page.limit, 2);
      assert.equal(page.offset, 1);

      staff.emit("typing_start", { ticketId });
      assert.deepEqual(await next(customer, "user_typing"), { ticketId, userId: staffId, userName: "Sam" });
      staff.emit("typing_stop", { ticketId });
      assert.deepEqual(await next(customer, "user_stopped_typing"), { ticketId, userId: staffId, userName: "Sam" });

      customer.emit("get_online_users", { ticketId });
      const online = await next(customer, "online_users");
      assert.deepEqual(online.users.map((u) => u.userId).sort(), [customerId, staffId].sort());

      staff.emit("leave_ticket", { ticketId });
      const left = await next(customer, "user_left_ticket");
      assert.equal(left.userId, staffId);
      customer.emit("send_message", { ticketId, message: "gone?" });
      await next(customer, "new_message", (d) => d.data.message === "gone?");
      await none(staff, "new_message", (d) => d.data.message === "gone?");

      await transport(customer, mode.final);
    });

    it("denies other tickets and bad attachments with the seed's errors", async () => {
      const ownerToken = token(uid("owner"));
      const ticketId = await openTicket(ownerToken);
      const { socket: stranger } = await authenticated(mode.opts, token(uid("stranger")));
      stranger.emit("join_ticket", { ticketId });
      assert.equal((await next(stranger, "error")).message, "Access denied to this ticket");
      stranger.emit("send_message", { ticketId, message: "hi" });
      assert.equal((await next(stranger, "error")).message, "Access denied to this ticket");
      stranger.emit("get_messages", { ticketId });
      assert.equal((await next(stranger, "error")).message, "Access denied to this ticket");
      // A refused message leaves no file behind.
      const lone = Buffer.concat([PNG, Buffer.from(uid("unique"))]);
      stranger.emit("send_message", {
        ticketId,
        message: "with a file",
        attachments: [{ name: "lone.png", data: lone.toString("base64") }],
      });
      assert.equal((await next(stranger, "error")).message, "Access denied to this ticket");
      const sha = createHash("sha256").update(lone).digest("hex");
      assert.equal(existsSync(join(process.env.SB_DATA_DIR, "attachments", sha.slice(0, 2), sha)), false);
      stranger.emit("join_ticket", { ticketId: "no-such-ticket" });
      assert.equal((await next(stranger, "error")).message, "Access denied to this ticket");
      stranger.emit("join_ticket", {});
      assert.equal((await next(stranger, "error")).message, "ticketId is required");

      const { socket: owner } = await authenticated(mode.opts, ownerToken);
      const send = (attachments) => request(owner, "send_message", { ticketId, message: "f", attachments });
      const exe = Buffer.concat([Buffer.from("MZ"), Buffer.alloc(64)]);
      assert.match((await send([{ name: "doc.png", type: "image/png", data: exe.toString("base64") }])).message, /not allowed/);
      assert.match((await send([{ name: "x.png", data: "%%% not base64 %%%" }])).message, /base64/);
      assert.match((await send("nope")).message, /array/);
      const six = Array.from({ length: 6 }, () => ({ name: "dot.png", data: PNG.toString("base64") }));
      assert.match((await send(six)).message, /At most 5 files/);
      const big = Buffer.concat([PNG, Buffer.alloc(10 * 1024 * 1024)]);
      assert.equal((await send([{ name: "big.png", data: big.toString("base64") }])).message, "File too large");
      // Nothing was posted by the refused sends.
      const history = await request(owner, "get_messages", { ticketId });
      assert.deepEqual(history.messages, []);
    });
  });
}
