// The live-stream page. Viewers watch the host's camera over WebRTC (signalled through
// the server), see the viewer count, like, react, see pinned products and chat. With a
// staff token the page hosts: start and stop, broadcast the camera, pin products and
// messages, set the chat's limits, and moderate (moderators, bans, blocked terms, the
// log). A viewer the host makes a moderator gets the line tools too.
import { connect, el, time, tokenFromLink } from "./common.js";

const $ = (id) => document.getElementById(id);
const rand = () => [...crypto.getRandomValues(new Uint8Array(12))].map((b) => b.toString(16).padStart(2, "0")).join("");

const state = {
  token: tokenFromLink("sb-host-token"),
  // In localStorage, so every tab of this browser is the same viewer (a ban holds).
  session: localStorage.getItem("sb-live-session") || `live-${rand()}`,
  moderator: false,
  lines: new Map(), // chat line id → its item
  peerId: `peer-${rand()}`,
  stream: null, // the current stream's view
  pinned: [],
  liked: false,
  camera: null, // the host's MediaStream
  peers: new Map(), // peer id → RTCPeerConnection
  conn: null,
};
localStorage.setItem("sb-live-session", state.session);
const host = () => Boolean(state.token);

function start() {
  state.conn?.close();
  state.conn = connect({
    badge: $("conn"),
    onOpen: (send) => send(host() ? { type: "register_admin", token: state.token } : { type: "register", sessionId: state.session }),
    onFrame,
  });
  $("host").hidden = !host();
  $("host-signin").hidden = host();
}

function send(frame) {
  state.conn?.send(frame);
}

async function onFrame(f) {
  switch (f.type) {
    case "registered":
    case "admin_registered":
      send({ type: "webrtc_register", peerId: state.peerId, userType: host() ? "admin" : "customer" });
      if (host()) refreshModeration();
      break;
    case "webrtc_registered":
      if (host() && state.camera && state.stream) send({ type: "webrtc_broadcast_start", peerId: state.peerId });
      break;
    case "stream_started":
      showStream(f.streamData);
      break;
    case "stream_stopped":
      showStream(null);
      break;
    case "stream_update":
      $("viewers").textContent = f.viewerCount ?? $("viewers").textContent;
      $("likes").textContent = f.likes;
      state.liked = (f.likedBy ?? []).includes(state.session);
      $("like").setAttribute("aria-pressed", String(state.liked));
      break;
    case "pinned_products_updated":
      state.pinned = f.pinnedProducts;
      renderPinned();
      break;
    case "chat_history":
      $("chat").replaceChildren();
      state.lines.clear();
      f.messages.forEach(addChat);
      break;
    case "chat_message":
      addChat(f);
      break;
    case "chat_message_deleted":
      state.lines.get(f.messageId)?.remove();
      state.lines.delete(f.messageId);
      if (host()) refreshModeration(); // the log
      break;
    case "chat_banned":
      showRestricted(f);
      break;
    case "chat_ban_lifted":
      showRestricted(null);
      break;
    case "chat_role":
      state.moderator = f.moderator;
      $("moderator-note").hidden = !f.moderator;
      for (const [id, item] of state.lines) lineTools(item, id);
      break;
    case "chat_moderated":
      $("error").textContent = "";
      if (host()) refreshModeration();
      break;
    case "chat_settings":
      $("slow-note").textContent = f.slowModeSeconds ? `(slow mode: ${f.slowModeSeconds} s)` : "";
      $("slow").value = String(f.slowModeSeconds);
      $("max-chars").value = f.maxChars;
      $("per-minute").value = f.perMinute;
      $("chat-text").maxLength = f.maxChars;
      if (host()) refreshModeration();
      break;
    case "webrtc_new_customer":
      if (host()) offerTo(f.customerId);
      break;
    case "webrtc_offer":
      await answer(f.from, f.offer);
      break;
    case "webrtc_answer":
      await state.peers.get(f.from)?.setRemoteDescription(f.answer);
      break;
    case "webrtc_ice_candidate":
      if (f.candidate) await state.peers.get(f.from)?.addIceCandidate(f.candidate).catch(() => {});
      break;
    case "webrtc_broadcast_stopped":
      closePeers();
      $("video").srcObject = host() ? state.camera : null;
      break;
    case "pinned_message":
      showPinnedMessage(f.message);
      if (host()) refreshModeration();
      break;
    case "reactions":
      float(f.counts);
      break;
    case "error":
      $("error").textContent = f.message;
      break;
  }
}

// Reactions: the server coalesces everyone's taps into counts per interval; a few of
// each float up over the video (not one per tap: a crowd would bury the picture).
const REACTIONS = ["❤️", "👍", "😂", "😮", "🔥", "👏"];
for (const emoji of REACTIONS) {
  const b = el("button", { type: "button", class: "reaction", "aria-label": `React ${emoji}` }, emoji);
  b.addEventListener("click", () => send({ type: "reaction", emoji }));
  $("reactions").append(b);
}

function float(counts) {
  for (const [emoji, n] of Object.entries(counts)) {
    for (let i = 0; i < Math.min(n, 6); i++) {
      const bubble = el("span", { class: "bubble", "data-emoji": emoji }, emoji);
      bubble.style.left = `${10 + Math.random() * 80}%`;
      bubble.style.animationDelay = `${i * 80}ms`;
      bubble.addEventListener("animationend", () => bubble.remove());
      $("floating").append(bubble);
    }
  }
}

function showStream(view) {
  state.stream = view;
  $("title").textContent = view ? `· ${view.title}` : "";
  $("offair").hidden = Boolean(view);
  $("start").disabled = Boolean(view);
  $("stop").disabled = !view;
  if (view) {
    $("likes").textContent = view.likes;
    $("viewers").textContent = view.viewerCount;
  } else {
    closePeers();
    showPinnedMessage(null);
    if (!host()) $("video").srcObject = null;
  }
}

// ---- WebRTC: the host offers its camera to each viewer -----------------------------

function peer(remote) {
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.onicecandidate = (e) =>
    e.candidate && send({ type: "webrtc_ice_candidate", from: state.peerId, to: remote, candidate: e.candidate.toJSON() });
  pc.onconnectionstatechange = () => {
    if (["failed", "closed"].includes(pc.connectionState)) state.peers.delete(remote);
  };
  state.peers.set(remote, pc);
  return pc;
}

async function offerTo(customerId) {
  if (!state.camera) return;
  state.peers.get(customerId)?.close();
  const pc = peer(customerId);
  for (const track of state.camera.getTracks()) pc.addTrack(track, state.camera);
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  send({ type: "webrtc_offer", from: state.peerId, to: customerId, offer: pc.localDescription.toJSON() });
}

async function answer(from, offer) {
  state.peers.get(from)?.close();
  const pc = peer(from);
  pc.ontrack = (e) => {
    $("video").srcObject = e.streams[0] ?? new MediaStream([e.track]);
    $("video").dataset.live = "true";
  };
  await pc.setRemoteDescription(offer);
  const reply = await pc.createAnswer();
  await pc.setLocalDescription(reply);
  send({ type: "webrtc_answer", from: state.peerId, to: from, answer: pc.localDescription.toJSON() });
}

function closePeers() {
  for (const pc of state.peers.values()) pc.close();
  state.peers.clear();
}

// ---- chat, likes, pins -------------------------------------------------------------

function addChat(line) {
  if (!line.id || state.lines.has(line.id)) return;
  const item = el(
    "li",
    { class: line.isAdmin ? "line host-line" : "line", "data-id": line.id, "data-admin": line.isAdmin },
    el("strong", {}, line.username),
    " ",
    el("span", { class: "text" }, line.message),
    el("span", { class: "meta" }, time(line.timestamp)),
    el("span", { class: "tools" }),
  );
  state.lines.set(line.id, item);
  lineTools(item, line.id);
  $("chat").append(item);
  $("chat").scrollTop = $("chat").scrollHeight;
}

// What the host, or a moderator, can do to a line: staff lines only get pinned.
function lineTools(item, id) {
  const tool = (label, title, frame) =>
    el("button", { type: "button", class: "ghost mod", title, onclick: () => send({ ...frame, messageId: id }) }, label);
  const staffLine = item.hasAttribute("data-admin");
  const tools = [];
  if ((host() || state.moderator) && !staffLine) {
    tools.push(
      tool("delete", "Delete", { type: "chat_delete" }),
      tool("timeout", "Time out for 5 minutes", { type: "chat_timeout", durationSeconds: 300 }),
      tool("ban", "Ban until lifted", { type: "chat_ban" }),
    );
  }
  if (host()) {
    if (!staffLine) tools.push(tool("mod", "Make a moderator", { type: "chat_moderator_add" }));
    tools.push(tool("pin", "Pin above the chat", { type: "chat_pin" }));
  }
  item.querySelector(".tools").replaceChildren(...tools);
}

// A timeout's end: the time today, else the date and time.
const when = (iso) => {
  const d = new Date(iso);
  return d.toDateString() === new Date().toDateString() ? time(iso) : d.toLocaleString();
};

// A banned or timed-out viewer still watches; the chat box says why it is closed.
let reopen = null;
function showRestricted(ban) {
  clearTimeout(reopen);
  const box = $("restricted");
  box.hidden = !ban;
  $("chat-text").disabled = Boolean(ban);
  $("chat-form").querySelector("button").disabled = Boolean(ban);
  if (!ban) return;
  const why = ban.reason ? ` (${ban.reason})` : "";
  box.textContent = ban.until ? `You are timed out until ${when(ban.until)}${why}.` : `You are banned from this chat${why}.`;
  if (ban.until) reopen = setTimeout(() => showRestricted(null), Math.max(0, Date.parse(ban.until) - Date.now()));
}

// ---- the host's moderation tools (REST) ----------------------------------------------

// Changes come in twos (the reply and the staff notice): one refresh for both.
let refreshTimer = null;
function refreshModeration() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(loadModeration, 100);
}

async function loadModeration() {
  try {
    const [mods, bans, terms, log] = await Promise.all([
      rest("GET", "/api/live/moderators"),
      rest("GET", "/api/live/bans"),
      rest("GET", "/api/live/blocked-terms"),
      rest("GET", "/api/live/moderation-log?limit=20"),
    ]);
    const drop = (label, path) => el("button", { type: "button", class: "ghost", onclick: () => act("DELETE", path) }, label);
    $("moderators").replaceChildren(
      ...mods.map((m) => el("li", { "data-user": m.userId }, el("strong", {}, m.name), " ", drop("remove", `/api/live/moderators/${encodeURIComponent(m.userId)}`))),
    );
    if (!mods.length) $("moderators").append(el("li", { class: "muted" }, "None yet: pick one from a chat line."));
    $("bans").replaceChildren(
      ...bans.map((b) =>
        el(
          "li",
          { "data-user": b.userId },
          el("strong", {}, b.name),
          " ",
          el("span", { class: "muted" }, b.until ? `until ${when(b.until)}` : "banned"),
          " ",
          drop("lift", `/api/live/bans/${encodeURIComponent(b.userId)}`),
        ),
      ),
    );
    if (!bans.length) $("bans").append(el("li", { class: "muted" }, "Nobody."));
    if (document.activeElement !== $("terms")) $("terms").value = terms.join("\n");
    $("modlog").replaceChildren(
      ...log.map((e) => el("li", {}, `${time(e.createdAt)} ${e.byName}: ${e.action}${e.detail ? ` (${e.detail})` : ""}`)),
    );
  } catch (e) {
    $("error").textContent = e.message;
  }
}

async function act(method, path, body) {
  try {
    await rest(method, path, body);
    $("error").textContent = "";
  } catch (e) {
    $("error").textContent = e.message;
  }
  refreshModeration();
}

$("terms-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const terms = $("terms").value.split("\n").map((t) => t.trim()).filter(Boolean);
  $("terms").blur();
  act("PUT", "/api/live/blocked-terms", { terms });
});
$("announce-form").addEventListener("submit", (e) => {
  e.preventDefault();
  send({ type: "chat_pin", message: $("announce-text").value.trim() });
  $("announce-text").value = "";
});

function showPinnedMessage(m) {
  const box = $("pinned-message");
  box.hidden = !m;
  if (!m) return;
  box.querySelector(".who").textContent = m.username;
  box.querySelector(".text").textContent = m.message;
  $("unpin").hidden = !host();
}
$("unpin").addEventListener("click", () => send({ type: "chat_unpin" }));
$("limits-form").addEventListener("submit", (e) => {
  e.preventDefault();
  send({ type: "chat_limits", maxChars: Number($("max-chars").value), perMinute: Number($("per-minute").value) });
});

function renderPinned() {
  $("pinned").replaceChildren(
    ...state.pinned.map((p) =>
      el(
        "li",
        { class: "card pin" },
        el("strong", {}, p.name),
        el("span", {}, `€${Number(p.price).toFixed(2)}`),
        host() ? el("button", { type: "button", class: "ghost", onclick: () => pin(state.pinned.filter((q) => q.productId !== p.productId)) }, "unpin") : null,
      ),
    ),
  );
  if (!state.pinned.length) $("pinned").append(el("li", { class: "muted" }, "Nothing pinned."));
}

async function rest(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${state.token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.message || `HTTP ${res.status}`);
  return json.data;
}

async function pin(products) {
  if (!state.stream) return ($("error").textContent = "Start the stream first.");
  try {
    await rest("PUT", `/api/live/streams/${state.stream.streamId}/pinned-products`, products.map((p, i) => ({ ...p, displayOrder: i })));
  } catch (e) {
    $("error").textContent = e.message;
  }
}

$("like").addEventListener("click", () => send({ type: "toggle_like" }));
$("chat-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const message = $("chat-text").value.trim();
  if (!message) return;
  send({ type: "chat_message", message, username: $("chat-name").value.trim() || undefined });
  $("chat-text").value = "";
});
$("host-form").addEventListener("submit", (e) => {
  e.preventDefault();
  state.token = $("host-token").value.trim();
  sessionStorage.setItem("sb-host-token", state.token);
  start();
});
$("start-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("error").textContent = "";
  try {
    state.camera = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
    $("video").srcObject = state.camera;
    showStream(await rest("POST", "/api/live/streams", { title: $("stream-title").value.trim() }));
    send({ type: "webrtc_broadcast_start", peerId: state.peerId });
  } catch (err) {
    $("error").textContent = err.message;
  }
});
$("stop").addEventListener("click", async () => {
  if (!state.stream) return;
  send({ type: "webrtc_broadcast_stop", peerId: state.peerId });
  try {
    await rest("POST", `/api/live/streams/${state.stream.streamId}/stop`);
  } catch (err) {
    $("error").textContent = err.message;
  }
  state.camera?.getTracks().forEach((t) => t.stop());
  state.camera = null;
  $("video").srcObject = null;
});
$("pin-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const product = { productId: rand(), name: $("pin-name").value.trim(), price: Number($("pin-price").value), image: "" };
  pin([...state.pinned, product]);
  $("pin-name").value = "";
  $("pin-price").value = "";
});
$("slow").addEventListener("change", () => send({ type: "chat_slow_mode", seconds: Number($("slow").value) }));

// Whatever is live already shows at once (the server also sends it on registering).
// The WebSocket opens after this answer: a first visit gets its browser key (the cookie
// that anonymous sessions belong to) from one response, not two racing ones (with two,
// the key kept could be the one the session is not bound to, and another tab refused).
fetch("/api/live/streams/current")
  .then((r) => r.json())
  .then((b) => {
    if (b?.data?.isActive) {
      showStream(b.data.streamData);
      state.pinned = b.data.pinnedProducts ?? [];
      renderPinned();
    }
  })
  .catch(() => {})
  .finally(start);
renderPinned();
