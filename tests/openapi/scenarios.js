// The requests the OpenAPI check makes: each scenario walks one part of the REST
// surface as its users would, answers good and bad, through `api.call` (which checks
// each answer against the description).
import assert from "node:assert/strict";

/** Admins' webhooks and API keys, and the server API with a key. */
async function adminAndServer(api, { token, uid, hookUrl }) {
  const admin = token("ann", "admin", "Ann");
  const agent = token("bo", "agent", "Bo");

  // API keys.
  assert.equal((await api.call("POST", "/api/admin/api-keys", { body: { name: "x", scopes: ["messages:write"] } })).status, 401);
  assert.equal((await api.call("POST", "/api/admin/api-keys", { body: { name: "x", scopes: ["messages:write"] }, bearer: agent })).status, 403);
  assert.equal((await api.call("POST", "/api/admin/api-keys", { body: { name: "x", scopes: ["nope"] }, bearer: admin })).status, 422);
  const scopes = ["conversations:read", "conversations:write", "messages:read", "messages:write", "streams:read", "streams:write"];
  const made = await api.call("POST", "/api/admin/api-keys", { body: { name: "Shop", scopes }, bearer: admin });
  assert.equal(made.status, 201);
  const key = made.json.data.key;
  const spare = (await api.call("POST", "/api/admin/api-keys", { body: { name: "Spare", scopes: ["messages:read"] }, bearer: admin })).json.data;
  assert.equal((await api.call("GET", "/api/admin/api-keys", { bearer: admin })).status, 200);
  assert.equal((await api.call("DELETE", `/api/admin/api-keys/${spare.id}`, { bearer: admin })).status, 200);
  assert.equal((await api.call("DELETE", "/api/admin/api-keys/key_none", { bearer: admin })).status, 404);

  // Webhooks, to a receiver in the test.
  const hook = await api.call("POST", "/api/admin/webhooks", { body: { url: hookUrl, events: ["message.created"] }, bearer: admin });
  assert.equal(hook.status, 201, hook.text);
  const ep = hook.json.data.id;
  assert.equal((await api.call("POST", "/api/admin/webhooks", { body: { url: hookUrl, events: ["nope"] }, bearer: admin })).status, 422);
  assert.equal((await api.call("GET", "/api/admin/webhooks", { bearer: admin })).status, 200);
  assert.equal((await api.call("GET", `/api/admin/webhooks/${ep}`, { bearer: admin })).status, 200);
  assert.equal((await api.call("GET", "/api/admin/webhooks/ep_none", { bearer: admin })).status, 404);
  assert.equal((await api.call("PATCH", `/api/admin/webhooks/${ep}`, { body: { description: "orders" }, bearer: admin })).status, 200);
  assert.equal((await api.call("POST", `/api/admin/webhooks/${ep}/rotate-secret`, { bearer: admin })).status, 200);
  const tested = await api.call("POST", `/api/admin/webhooks/${ep}/test`, { bearer: admin });
  assert.equal(tested.json.data.delivered, true, tested.text);

  // The server API: a conversation opened, written to, changed, listed, read.
  assert.equal((await api.call("GET", "/api/server/v1/conversations")).status, 401);
  const opened = await api.call("POST", "/api/server/v1/conversations", {
    body: { userId: uid("user"), name: "Carla", message: { text: "Your order is late; can we help?" } },
    bearer: key,
  });
  assert.equal(opened.status, 201);
  const id = opened.json.data.id;
  assert.equal((await api.call("POST", "/api/server/v1/conversations", { body: {}, bearer: key })).status, 422);
  assert.equal((await api.call("POST", "/api/server/v1/conversations", { body: { guestId: "guest-unknown" }, bearer: key })).status, 404);
  const post = (body, headers) => api.call("POST", `/api/server/v1/conversations/${id}/messages`, { body, bearer: key, headers });
  assert.equal((await post({ text: "Shipped today" }, { "idempotency-key": "k1" })).status, 201);
  assert.equal((await post({ text: "Shipped today" }, { "idempotency-key": "k1" })).status, 200);
  assert.equal((await post({ text: "Other" }, { "idempotency-key": "k1" })).status, 422);
  assert.equal((await api.call("POST", "/api/server/v1/conversations/none/messages", { body: { text: "x" }, bearer: key })).status, 404);
  assert.equal((await api.call("GET", `/api/server/v1/conversations/${id}`, { bearer: key })).status, 200);
  assert.equal((await api.call("GET", "/api/server/v1/conversations/none", { bearer: key })).status, 404);
  assert.equal((await api.call("PATCH", `/api/server/v1/conversations/${id}`, { body: { assignee: "bo" }, bearer: key })).status, 200);
  assert.equal((await api.call("PATCH", `/api/server/v1/conversations/${id}`, { body: { status: "x" }, bearer: key })).status, 422);
  const page = await api.call("GET", "/api/server/v1/conversations?limit=1", { bearer: key });
  assert.equal(page.status, 200);
  assert.equal((await api.call("GET", "/api/server/v1/conversations?cursor=bad", { bearer: key })).status, 422);
  assert.equal((await api.call("GET", `/api/server/v1/conversations/${id}/messages?limit=2`, { bearer: key })).status, 200);

  // Deliveries of the events those made, and replays.
  let deliveries;
  for (let i = 0; i < 50; i++) {
    deliveries = await api.call("GET", `/api/admin/webhooks/${ep}/deliveries`, { bearer: admin });
    if (deliveries.json.data.some((d) => d.status === "delivered")) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const pos = deliveries.json.data[0].pos;
  assert.equal((await api.call("GET", `/api/admin/webhooks/${ep}/deliveries?status=lost`, { bearer: admin })).status, 422);
  assert.equal((await api.call("POST", `/api/admin/webhooks/${ep}/deliveries/${pos}/replay`, { bearer: admin })).status, 200);
  assert.equal((await api.call("POST", `/api/admin/webhooks/${ep}/replay`, { body: { status: "delivered" }, bearer: admin })).status, 200);
  assert.equal((await api.call("DELETE", `/api/admin/webhooks/${ep}`, { bearer: admin })).status, 200);

  // The live stream through the server API.
  assert.equal((await api.call("GET", "/api/server/v1/stream", { bearer: key })).status, 200);
  assert.equal((await api.call("POST", "/api/server/v1/stream/announcements", { body: { text: "hi" }, bearer: key })).status, 409);
  const started = await api.call("POST", "/api/live/streams", { body: { title: "Launch" }, bearer: admin });
  assert.equal(started.status, 201, started.text);
  assert.equal((await api.call("POST", "/api/server/v1/stream/announcements", { body: { text: "20% off now" }, bearer: key })).status, 202);
  const products = [{ productId: "serum", name: "Serum", price: 39.2, image: "/s.jpg", displayOrder: 1 }];
  assert.equal((await api.call("PUT", "/api/server/v1/stream/pinned-products", { body: products, bearer: key })).status, 200);
  assert.equal((await api.call("GET", "/api/server/v1/stream", { bearer: key })).status, 200);
  const stopped = await api.call("POST", `/api/live/streams/${started.json.data.streamId}/stop`, { bearer: admin });
  assert.equal(stopped.status, 200);
}

/** Seed 000's REST beside `/ws`. */
async function native(api, { token, uid }) {
  const customer = token(uid("cust"), "customer", "Cy");
  const sessionId = uid("session");
  const sent = await api.call("POST", "/api/chat/send-to-staff", { body: { sessionId, message: "hello", clientId: "c1" }, bearer: customer });
  assert.equal(sent.status, 200, sent.text);
  assert.equal((await api.call("POST", "/api/chat/send-to-staff", { body: { message: "no session" }, bearer: customer })).status, 422);
  const history = await api.call("GET", `/api/chat/sessions/${sessionId}/messages?after_seq=0`, { bearer: customer });
  assert.equal(history.status, 200);
  assert.equal(history.json.messages.length, 1);
  const stranger = token(uid("other"), "customer");
  assert.equal((await api.call("GET", `/api/chat/sessions/${sessionId}/messages`, { bearer: stranger })).status, 403);

  // A rating, once resolved.
  const rating = `/api/chat/sessions/${sessionId}/rating`;
  assert.equal((await api.call("POST", rating, { body: { rating: 5 }, bearer: customer })).status, 409);
  const agent = token(uid("agent"), "agent", "Al");
  assert.equal((await api.call("POST", `/api/v1/chat/sessions/${sessionId}/assign`, { bearer: agent })).status, 200);
  assert.equal((await api.call("PATCH", `/api/v1/chat/sessions/${sessionId}/status`, { body: { status: "resolved" }, bearer: agent })).status, 200);
  assert.equal((await api.call("POST", rating, { body: { rating: 7 }, bearer: customer })).status, 422);
  assert.equal((await api.call("POST", rating, { body: { rating: 5 }, bearer: stranger })).status, 403);
  assert.equal((await api.call("POST", "/api/chat/sessions/no-such-session-id/rating", { body: { rating: 5 }, bearer: customer })).status, 404);
  const rated = await api.call("POST", rating, { body: { rating: 5, comment: "great" }, bearer: customer });
  assert.equal(rated.status, 200, rated.text);
  assert.equal((await api.call("POST", rating, { body: { rating: 5 }, bearer: customer })).status, 409);

  const transcript = `/api/chat/sessions/${sessionId}/transcript`;
  assert.equal((await api.call("GET", transcript, { bearer: customer })).status, 200);
  assert.equal((await api.call("GET", `${transcript}?format=html`, { bearer: agent })).status, 200);
  assert.equal((await api.call("GET", `${transcript}?format=pdf`, { bearer: agent })).status, 422);
  assert.equal((await api.call("GET", transcript, { bearer: stranger })).status, 403);
  assert.equal((await api.call("GET", "/api/chat/sessions/no-such-session-id/transcript", { bearer: agent })).status, 404);
}

/** Seed 004's sessions: made, written to (JSON and a form with a file), read, assigned. */
async function sessions(api, { token, uid }) {
  const customer = token(uid("cust"), "customer", "Cy");
  const agent = token(uid("agent"), "agent", "Bo");
  assert.equal((await api.call("POST", "/api/v1/chat/sessions", { body: { subject: "x" } })).status, 401);
  const made = await api.call("POST", "/api/v1/chat/sessions", { body: { subject: "Order", initial_message: "where is it?" }, bearer: customer });
  assert.equal(made.status, 201, made.text);
  const id = made.json.data.id;
  assert.equal((await api.call("POST", "/api/v1/chat/sessions", { body: { type: "smalltalk" }, bearer: customer })).status, 422);
  assert.equal((await api.call("GET", "/api/v1/chat/sessions", { bearer: customer })).status, 200);
  assert.equal((await api.call("GET", "/api/v1/chat/sessions?limit=0", { bearer: customer })).status, 422);
  assert.equal((await api.call("GET", `/api/v1/chat/sessions/${id}`, { bearer: customer })).status, 200);
  assert.equal((await api.call("GET", "/api/v1/chat/sessions/none", { bearer: agent })).status, 404);
  assert.equal((await api.call("POST", `/api/v1/chat/sessions/${id}/messages`, { body: { content: "more", temp_id: "t1" }, bearer: customer })).status, 201);

  const form = new FormData();
  form.append("attachments", new Blob([Buffer.from("%PDF-1.4\n%%EOF\n")], { type: "application/pdf" }), "invoice.pdf");
  const up = await api.call("POST", "/api/v1/chat/upload", { raw: form, bearer: customer });
  assert.equal(up.status, 201, up.text);
  const withFile = await api.call("POST", `/api/v1/chat/sessions/${id}/messages`, { body: { attachments: [up.json.data[0].id] }, bearer: customer });
  assert.equal(withFile.status, 201, withFile.text);
  const multi = new FormData();
  multi.append("content", "a form");
  multi.append("attachments", new Blob([Buffer.from("%PDF-1.4\n%%EOF\n")], { type: "application/pdf" }), "second.pdf");
  assert.equal((await api.call("POST", `/api/v1/chat/sessions/${id}/messages`, { raw: multi, bearer: customer })).status, 201);
  const file = await api.call("GET", `/api/v1/chat/attachments/${up.json.data[0].id}`, { bearer: agent });
  assert.equal(file.status, 200);
  assert.equal((await api.call("GET", "/api/v1/chat/attachments/none", { bearer: agent })).status, 404);

  assert.equal((await api.call("GET", `/api/v1/chat/sessions/${id}/messages?limit=2`, { bearer: agent })).status, 200);
  assert.equal((await api.call("POST", `/api/v1/chat/sessions/${id}/read`, { bearer: agent })).status, 200);
  assert.equal((await api.call("POST", `/api/v1/chat/sessions/${id}/assign`, { bearer: agent })).status, 200);
  assert.equal((await api.call("POST", `/api/v1/chat/sessions/${id}/assign`, { bearer: customer })).status, 403);
  assert.equal((await api.call("PATCH", `/api/v1/chat/sessions/${id}/status`, { body: { status: "resolved" }, bearer: agent })).status, 200);
  assert.equal((await api.call("PATCH", `/api/v1/chat/sessions/${id}/status`, { body: { status: "done" }, bearer: agent })).status, 422);
  assert.equal((await api.call("GET", `/api/v1/chat/sessions/${id}/participants`, { bearer: agent })).status, 200);
  assert.equal((await api.call("GET", "/api/v1/chat/staff/online", { bearer: agent })).status, 200);
  assert.equal((await api.call("GET", "/api/v1/chat/staff/online", { bearer: customer })).status, 403);
}

/** Seed 003's widget: a guest, a signed-in user, the admin list and onboarding codes. */
async function support(api, { token, uid }) {
  const guest = await api.call("POST", "/api/support/conversation/guest", {});
  assert.equal(guest.status, 200, guest.text);
  const { guestId } = guest.json;
  const id = guest.json.conversation.id;
  assert.equal((await api.call("POST", "/api/support/conversation/guest", { body: { guestId: "guest-unknown" } })).status, 401);
  assert.equal((await api.call("GET", `/api/support/conversation/${id}?guestId=${guestId}`)).status, 200);
  assert.equal((await api.call("GET", `/api/support/conversation/${id}`)).status, 401);
  assert.equal((await api.call("GET", `/api/support/conversation/${id}/messages?guestId=${guestId}&page=1`)).status, 200);
  assert.equal((await api.call("GET", `/api/support/conversation/${id}/messages?guestId=${guestId}&page=0`)).status, 422);
  const user = token(uid("user"), "customer", "Dee");
  const mine = await api.call("GET", "/api/support/conversation?type=general", { bearer: user });
  assert.equal(mine.status, 200, mine.text);
  assert.equal((await api.call("GET", `/api/support/conversation/${id}`, { bearer: user })).status, 403);
  const staff = token(uid("admin"), "admin", "Ann");
  assert.equal((await api.call("GET", "/api/admin/support/conversations?status=open", { bearer: staff })).status, 200);
  assert.equal((await api.call("GET", "/api/admin/support/conversations", { bearer: user })).status, 403);
  const code = await api.call("POST", "/api/support/onboarding/generate-code", { body: { conversationId: id }, bearer: staff });
  assert.equal(code.status, 200, code.text);
  const wrong = code.json.code === "000000" ? "000001" : "000000";
  const refused = await api.call("POST", "/api/support/onboarding/verify-code", { body: { code: wrong, guestId } });
  assert.ok(refused.status >= 400, refused.text);
  const verified = await api.call("POST", "/api/support/onboarding/verify-code", { body: { code: code.json.code, guestId } });
  assert.equal(verified.status, 200, verified.text);
  assert.equal((await api.call("POST", "/api/support/onboarding/generate-code", { body: {}, bearer: staff })).status, 422);
}

/** Seed 002's stream over REST. */
/** The team desk: private notes. */
async function desk(api, { token, uid }) {
  const customer = token(uid("cust"), "customer", "Di");
  const agent = token(uid("agent"), "agent", "Ed");
  const made = await api.call("POST", "/api/v1/chat/sessions", { body: { subject: "Note me", initial_message: "hi" }, bearer: customer });
  const notes = `/api/desk/conversations/${made.json.data.id}/notes`;
  assert.equal((await api.call("POST", notes, { body: { content: "x" } })).status, 401);
  assert.equal((await api.call("POST", notes, { body: { content: "x" }, bearer: customer })).status, 403);
  assert.equal((await api.call("POST", notes, { body: { content: "" }, bearer: agent })).status, 422);
  assert.equal((await api.call("POST", "/api/desk/conversations/none/notes", { body: { content: "x" }, bearer: agent })).status, 404);
  const note = await api.call("POST", notes, { body: { content: "VIP", clientId: "n1" }, bearer: agent });
  assert.equal(note.status, 201, note.text);
  assert.equal(note.json.data.private, true);
  const closed = await api.call("PATCH", `/api/v1/chat/sessions/${made.json.data.id}/status`, { body: { status: "closed" }, bearer: agent });
  assert.equal(closed.status, 200, closed.text);
  assert.equal((await api.call("POST", notes, { body: { content: "late" }, bearer: agent })).status, 409);

  const labelled = await api.call("POST", "/api/v1/chat/sessions", { body: { subject: "Label me", initial_message: "hi" }, bearer: customer });
  const labels = `/api/desk/conversations/${labelled.json.data.id}/labels`;
  assert.equal((await api.call("PUT", `${labels}/vip`)).status, 401);
  assert.equal((await api.call("PUT", `${labels}/vip`, { bearer: customer })).status, 403);
  assert.equal((await api.call("PUT", `${labels}/a%20b`, { bearer: agent })).status, 422);
  assert.equal((await api.call("PUT", "/api/desk/conversations/none/labels/vip", { bearer: agent })).status, 404);
  assert.equal((await api.call("PUT", `${labels}/vip`, { bearer: agent })).status, 200);
  assert.equal((await api.call("GET", "/api/desk/conversations?label=vip&status=open&limit=5", { bearer: agent })).status, 200);
  assert.equal((await api.call("GET", "/api/desk/conversations?status=nope", { bearer: agent })).status, 422);
  assert.equal((await api.call("GET", "/api/desk/conversations", { bearer: customer })).status, 403);
  assert.equal((await api.call("GET", "/api/desk/conversations")).status, 401);
  assert.equal((await api.call("DELETE", `${labels}/vip`, { bearer: customer })).status, 403);
  assert.equal((await api.call("DELETE", `${labels}/vip`, { bearer: agent })).status, 200);
  assert.equal((await api.call("DELETE", "/api/desk/conversations/none/labels/vip", { bearer: agent })).status, 404);

  const snooze = `/api/desk/conversations/${labelled.json.data.id}/snooze`;
  const later = new Date(Date.now() + 3600_000).toISOString();
  assert.equal((await api.call("PUT", snooze, { body: { until: later } })).status, 401);
  assert.equal((await api.call("PUT", snooze, { body: { until: later }, bearer: customer })).status, 403);
  assert.equal((await api.call("PUT", snooze, { body: { until: "soon" }, bearer: agent })).status, 422);
  assert.equal((await api.call("PUT", "/api/desk/conversations/none/snooze", { body: { until: later }, bearer: agent })).status, 404);
  assert.equal((await api.call("PUT", snooze, { body: { until: later }, bearer: agent })).status, 200);
  assert.equal((await api.call("GET", "/api/desk/conversations?status=snoozed", { bearer: agent })).status, 200);
  assert.equal((await api.call("PUT", snooze, { body: { until: null }, bearer: agent })).status, 200);

  const found = await api.call("GET", "/api/desk/search?q=label%20me&limit=5", { bearer: agent });
  assert.equal(found.status, 200, found.text);
  assert.equal((await api.call("GET", `/api/desk/search?q=${encodeURIComponent(made.json.data.id)}`, { bearer: agent })).status, 200);
  assert.equal((await api.call("GET", "/api/desk/search?q=hi&offset=1", { bearer: agent })).status, 200);
  assert.equal((await api.call("GET", "/api/desk/search?q=%20", { bearer: agent })).status, 422);
  assert.equal((await api.call("GET", "/api/desk/search?q=hi", { bearer: customer })).status, 403);
  assert.equal((await api.call("GET", "/api/desk/search?q=hi")).status, 401);

  const admin = token(uid("admin"), "admin", "Flo");
  const agentId = JSON.parse(Buffer.from(agent.split(".")[1], "base64url")).sub;
  assert.equal((await api.call("GET", "/api/desk/queue", { bearer: agent })).status, 200);
  assert.equal((await api.call("GET", "/api/desk/queue", { bearer: customer })).status, 403);
  assert.equal((await api.call("GET", "/api/desk/queue")).status, 401);
  const away = `/api/desk/agents/${agentId}/availability`;
  assert.equal((await api.call("PUT", away, { body: { availability: "away" }, bearer: agent })).status, 200);
  assert.equal((await api.call("PUT", away, { body: { availability: "gone" }, bearer: agent })).status, 422);
  assert.equal((await api.call("PUT", away, { body: { availability: "away" }, bearer: customer })).status, 403);
  assert.equal((await api.call("PUT", away, { body: { availability: "away" } })).status, 401);
  const room = `/api/desk/agents/${agentId}/capacity`;
  assert.equal((await api.call("PUT", room, { body: { capacity: 4 }, bearer: admin })).status, 200);
  assert.equal((await api.call("PUT", room, { body: { capacity: null }, bearer: admin })).status, 200);
  assert.equal((await api.call("PUT", room, { body: { capacity: -1 }, bearer: admin })).status, 422);
  assert.equal((await api.call("PUT", room, { body: { capacity: 4 }, bearer: agent })).status, 403);
  assert.equal((await api.call("PUT", room, { body: { capacity: 4 } })).status, 401);

  const canned = "/api/desk/canned-responses";
  assert.equal((await api.call("GET", canned)).status, 401);
  assert.equal((await api.call("GET", canned, { bearer: customer })).status, 403);
  assert.equal((await api.call("POST", canned, { body: { shortcut: "x", content: "y" }, bearer: agent })).status, 403);
  assert.equal((await api.call("POST", canned, { body: { shortcut: "a b", content: "y" }, bearer: admin })).status, 422);
  const shortcut = uid("hi").toLowerCase();
  const snippet = await api.call("POST", canned, { body: { shortcut, content: "Hi {{customer.name}}" }, bearer: admin });
  assert.equal(snippet.status, 201, snippet.text);
  assert.equal((await api.call("POST", canned, { body: { shortcut, content: "again" }, bearer: admin })).status, 409);
  assert.equal((await api.call("GET", canned, { bearer: agent })).status, 200);
  const one = `${canned}/${snippet.json.data.id}`;
  assert.equal((await api.call("PATCH", one, { body: { content: "Hello {{customer.name}}" }, bearer: admin })).status, 200);
  assert.equal((await api.call("PATCH", `${canned}/none`, { body: { content: "x" }, bearer: admin })).status, 404);
  assert.equal((await api.call("PATCH", one, { body: { shortcut: "" }, bearer: admin })).status, 422);
  assert.equal((await api.call("PATCH", one, { body: {}, bearer: agent })).status, 403);
  assert.equal((await api.call("DELETE", one, { bearer: agent })).status, 403);
  assert.equal((await api.call("DELETE", one, { bearer: admin })).status, 200);
  assert.equal((await api.call("DELETE", one, { bearer: admin })).status, 404);
  assert.equal((await api.call("PATCH", one, { body: {}, bearer: admin })).status, 404);

  const hours = "/api/desk/office-hours";
  const week = { timeZone: "Europe/Berlin", weekly: { mon: [{ open: "09:00", close: "17:00" }] }, holidays: ["2026-12-25"], autoReply: "Back soon" };
  assert.equal((await api.call("GET", hours)).status, 401);
  assert.equal((await api.call("GET", hours, { bearer: customer })).status, 403);
  assert.equal((await api.call("PUT", hours, { body: week, bearer: agent })).status, 403);
  assert.equal((await api.call("PUT", hours, { body: week })).status, 401);
  assert.equal((await api.call("PUT", hours, { body: { ...week, timeZone: "Nowhere" }, bearer: admin })).status, 422);
  const set = await api.call("PUT", hours, { body: week, bearer: admin });
  assert.equal(set.status, 200, set.text);
  assert.equal((await api.call("GET", hours, { bearer: agent })).status, 200);
  assert.equal((await api.call("GET", "/api/support/availability")).status, 200);
  const guest = await api.call("POST", "/api/support/conversation/guest", {});
  const leave = { message: "Anyone there?", email: "ann@example.com", guestId: guest.json.guestId };
  const left = await api.call("POST", "/api/support/offline-message", { body: leave });
  assert.equal(left.status, 201, left.text);
  assert.equal((await api.call("POST", "/api/support/offline-message", { body: { ...leave, guestId: undefined } })).status, 401);
  assert.equal((await api.call("POST", "/api/support/offline-message", { body: leave, bearer: agent })).status, 403);
  assert.equal((await api.call("POST", "/api/support/offline-message", { body: { ...leave, sessionId: "none" } })).status, 404);
  assert.equal((await api.call("POST", "/api/support/offline-message", { body: { ...leave, email: "ann" } })).status, 422);
  assert.equal((await api.call("GET", `/api/desk/conversations?guestId=${guest.json.guestId}`, { bearer: agent })).status, 200);
  assert.equal((await api.call("DELETE", hours, { bearer: agent })).status, 403);
  assert.equal((await api.call("DELETE", hours)).status, 401);
  assert.equal((await api.call("DELETE", hours, { bearer: admin })).status, 200);

  assert.equal((await api.call("GET", "/api/widget")).status, 200);
  const look = { color: "#0f766e", position: "left", greeting: "Hi!", teamName: "Shop", avatarUrl: "/static/favicon.svg" };
  assert.equal((await api.call("PUT", "/api/desk/widget", { body: look })).status, 401);
  assert.equal((await api.call("PUT", "/api/desk/widget", { body: look, bearer: agent })).status, 403);
  assert.equal((await api.call("PUT", "/api/desk/widget", { body: { color: "teal" }, bearer: admin })).status, 422);
  const styled = await api.call("PUT", "/api/desk/widget", { body: look, bearer: admin });
  assert.equal(styled.status, 200, styled.text);
  assert.equal((await api.call("DELETE", "/api/desk/widget")).status, 401);
  assert.equal((await api.call("DELETE", "/api/desk/widget", { bearer: agent })).status, 403);
  assert.equal((await api.call("DELETE", "/api/desk/widget", { bearer: admin })).status, 200);
}

async function live(api, { token }) {
  const host = token("host", "admin", "Host");
  assert.equal((await api.call("GET", "/api/live/streams/current")).status, 200);
  assert.equal((await api.call("POST", "/api/live/streams", { body: { title: "x" } })).status, 401);
  const started = await api.call("POST", "/api/live/streams", { body: { title: "Launch", quality: "1080p" }, bearer: host });
  assert.equal(started.status, 201, started.text);
  const id = started.json.data.streamId;
  assert.equal((await api.call("POST", "/api/live/streams", { body: { title: "Another" }, bearer: host })).status, 409);
  assert.equal((await api.call("GET", "/api/live/streams/current")).status, 200);
  const products = [{ productId: "p1", name: "Serum", price: 49.99, image: "/s.jpg", displayOrder: 1 }];
  assert.equal((await api.call("PUT", `/api/live/streams/${id}/pinned-products`, { body: products, bearer: host })).status, 200);
  assert.equal((await api.call("PUT", `/api/live/streams/${id}/pinned-products`, { body: [{ name: "no id" }], bearer: host })).status, 422);
  const settings = await api.call("PUT", `/api/live/streams/${id}/chat-settings`, { body: { maxChars: 200, perMinute: 10 }, bearer: host });
  assert.equal(settings.status, 200, settings.text);
  assert.equal((await api.call("PUT", `/api/live/streams/${id}/chat-settings`, { body: { maxChars: 0 }, bearer: host })).status, 422);
  assert.equal((await api.call("PUT", "/api/live/streams/other/chat-settings", { body: {}, bearer: host })).status, 404);
  const pinned = await api.call("PUT", `/api/live/streams/${id}/pinned-message`, { body: { message: "Free shipping today", durationSeconds: 600 }, bearer: host });
  assert.equal(pinned.status, 200, pinned.text);
  assert.equal((await api.call("PUT", `/api/live/streams/${id}/pinned-message`, { body: { messageId: "none" }, bearer: host })).status, 404);
  assert.equal((await api.call("PUT", `/api/live/streams/${id}/pinned-message`, { body: {}, bearer: host })).status, 422);
  assert.equal((await api.call("PUT", "/api/live/streams/other/pinned-message", { body: { message: "x" }, bearer: host })).status, 404);
  assert.equal((await api.call("DELETE", `/api/live/streams/${id}/pinned-message`, { bearer: host })).status, 200);
  assert.equal((await api.call("POST", `/api/live/streams/${id}/stop`, { bearer: host })).status, 200);
  assert.equal((await api.call("GET", "/api/live/streams")).status, 200);
}

/** The live chat's standing rules (no stream need be live). */
async function liveModeration(api, { token }) {
  const host = token("host", "admin", "Host");
  const viewer = token("viewer", "customer", "Vi");
  assert.equal((await api.call("GET", "/api/live/bans")).status, 401);
  assert.equal((await api.call("GET", "/api/live/bans", { bearer: viewer })).status, 403);
  const timeout = await api.call("PUT", "/api/live/bans/viewer", { body: { durationSeconds: 600, reason: "spam" }, bearer: host });
  assert.equal(timeout.status, 200, timeout.text);
  const ban = await api.call("PUT", "/api/live/bans/guest-1", { body: { name: "Troll" }, bearer: host });
  assert.equal(ban.status, 200, ban.text);
  assert.equal((await api.call("PUT", "/api/live/bans/x", { body: { durationSeconds: 0 }, bearer: host })).status, 422);
  assert.equal((await api.call("GET", "/api/live/bans", { bearer: host })).status, 200);
  assert.equal((await api.call("DELETE", "/api/live/bans/guest-1", { bearer: host })).status, 200);
  assert.equal((await api.call("DELETE", "/api/live/bans/guest-1", { bearer: host })).status, 404);
  const mod = await api.call("PUT", "/api/live/moderators/mod-1", { body: { name: "Mo" }, bearer: host });
  assert.equal(mod.status, 200, mod.text);
  assert.equal((await api.call("PUT", "/api/live/moderators/mod-2", { body: { name: "x".repeat(100) }, bearer: host })).status, 422);
  assert.equal((await api.call("GET", "/api/live/moderators", { bearer: host })).status, 200);
  assert.equal((await api.call("DELETE", "/api/live/moderators/mod-1", { bearer: host })).status, 200);
  assert.equal((await api.call("DELETE", "/api/live/moderators/mod-1", { bearer: host })).status, 404);
  const terms = await api.call("PUT", "/api/live/blocked-terms", { body: { terms: ["scam*", "buy now"] }, bearer: host });
  assert.equal(terms.status, 200, terms.text);
  assert.equal((await api.call("PUT", "/api/live/blocked-terms", { body: { terms: ["*"] }, bearer: host })).status, 422);
  assert.equal((await api.call("GET", "/api/live/blocked-terms", { bearer: host })).status, 200);
  const log = await api.call("GET", "/api/live/moderation-log?limit=20", { bearer: host });
  assert.equal(log.status, 200, log.text);
  assert.equal((await api.call("GET", "/api/live/moderation-log?limit=0", { bearer: host })).status, 422);
  for (const path of ["/api/live/moderators", "/api/live/blocked-terms", "/api/live/moderation-log"]) {
    assert.equal((await api.call("GET", path)).status, 401);
    assert.equal((await api.call("GET", path, { bearer: viewer })).status, 403);
  }
  for (const [method, path, body] of [
    ["PUT", "/api/live/bans/x", {}],
    ["DELETE", "/api/live/bans/x"],
    ["PUT", "/api/live/moderators/x", {}],
    ["DELETE", "/api/live/moderators/x"],
    ["PUT", "/api/live/blocked-terms", { terms: [] }],
  ]) {
    assert.equal((await api.call(method, path, { body, bearer: viewer })).status, 403, `${method} ${path}`);
    assert.equal((await api.call(method, path, { body })).status, 401, `${method} ${path}`);
  }
}

/** Health, metrics and the document itself. */
async function operations(api) {
  assert.equal((await api.call("GET", "/health")).status, 200);
  assert.equal((await api.call("GET", "/health/live")).status, 200);
  assert.equal((await api.call("GET", "/health/ready")).status, 200);
  assert.equal((await api.call("GET", "/metrics")).status, 200);
  assert.equal((await api.call("GET", "/api/openapi.json")).status, 200);
}

export const scenarios = [adminAndServer, native, sessions, support, desk, live, liveModeration, operations];
