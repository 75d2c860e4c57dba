// The customer widget: a guest (or signed-in) conversation kept across reloads, text and
// files (with upload progress), staff replies, typing and read ticks live, and resume by
// seq after any reconnect, so nothing is lost or shown twice.
import { attachmentList, connect, el, messageOf, renderTicks, time } from "./common.js";

const $ = (id) => document.getElementById(id);
const KEY = "sb-widget";
const saved = JSON.parse(localStorage.getItem(KEY) || "{}");
const state = {
  token: saved.token || null,
  guestId: saved.guestId || null,
  conversationId: saved.conversationId || null,
  lastSeq: 0,
  readUpTo: 0,
  seen: new Set(),
  pending: new Map(),
  // Messages written while not connected: sent once registered (again), each with its
  // client id, so a resend can never make a duplicate.
  outbox: [],
  registered: false,
  conn: null,
  open: false,
  // Bumped on each sign-in: answers asked for before it are for someone else.
  identity: 0,
};
const save = () =>
  localStorage.setItem(KEY, JSON.stringify({ token: state.token, guestId: state.guestId, conversationId: state.conversationId }));

async function api(method, path, body) {
  const headers = { "content-type": "application/json" };
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  const res = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.message || `HTTP ${res.status}`);
  return json;
}

/**
 * The caller's open conversation: found or started (guests get their id here).
 * False when the caller signed in meanwhile: the answer was for the guest they were.
 */
async function ensureConversation() {
  if (state.conversationId) return true;
  const identity = state.identity;
  if (state.token) {
    const c = await api("GET", "/api/support/conversation?type=general");
    if (identity !== state.identity) return false;
    state.conversationId = c.id;
  } else {
    const r = await api("POST", "/api/support/conversation/guest", state.guestId ? { guestId: state.guestId } : {});
    if (identity !== state.identity) return false;
    state.guestId = r.guestId;
    state.conversationId = r.conversation.id;
  }
  save();
  return true;
}

function start() {
  state.conn?.close();
  state.conn = connect({
    badge: $("conn"),
    onOpen: (send) => {
      state.registered = false;
      send({ type: "register", sessionId: state.conversationId, token: state.token ?? undefined, guestId: state.guestId ?? undefined });
    },
    onFrame,
  });
}

function onFrame(f, send) {
  switch (f.type) {
    case "registered":
      state.registered = true;
      $("transcript").hidden = false;
      // Resume: everything after the last message we have (all of it on first load),
      // then whatever was written meanwhile.
      send({ type: "history", sessionId: state.conversationId, afterSeq: state.lastSeq, limit: 200 });
      for (const frame of state.outbox.splice(0)) send(frame);
      // Where the customer writes from, for the agent beside the conversation.
      send({ type: "customer_context", pageUrl: location.href, pageTitle: document.title, browser: browserName(), timeZone: timeZone() });
      break;
    case "history":
      f.messages.forEach((m) => add(messageOf(m)));
      if (f.hasMore) send({ type: "history", sessionId: state.conversationId, afterSeq: state.lastSeq, limit: 200 });
      markRead();
      break;
    case "staff_reply":
    case "system_message":
    case "customer_message":
      add(messageOf(f));
      if (f.type === "staff_reply") {
        $("typing").hidden = true;
        if (!state.open) $("dot").hidden = false;
      }
      markRead();
      break;
    case "message_ack": {
      const p = state.pending.get(f.clientId);
      state.pending.delete(f.clientId);
      p?.node.remove();
      add({ id: f.id, seq: f.seq, text: p?.text ?? "", senderType: "mine", timestamp: f.timestamp, attachments: p?.attachments ?? [] });
      break;
    }
    case "conversation_updated":
      if (f.sessionId === state.conversationId) showRating(f.conversation);
      break;
    case "queue_position":
      showQueue(f);
      break;
    case "typing":
      if (f.userId !== state.guestId) $("typing").hidden = !f.isTyping;
      break;
    case "messages_read":
      if (f.readerId !== state.guestId) {
        state.readUpTo = Math.max(state.readUpTo, f.upToSeq);
        ticks();
      }
      break;
    case "error":
      $("error").textContent = f.message;
      if (f.code === "forbidden" || f.code === "not_found") {
        // The stored conversation is not ours (any more): start afresh next time.
        state.conversationId = null;
        save();
      }
      break;
  }
}

function add(m) {
  if (state.seen.has(m.id)) return;
  state.seen.add(m.id);
  state.lastSeq = Math.max(state.lastSeq, m.seq ?? 0);
  const mine = m.senderType === "mine" || m.senderType === "guest" || m.senderType === "customer";
  const node = el(
    "li",
    { class: `msg ${m.senderType === "system" ? "system" : mine ? "out" : "in"}`, "data-seq": m.seq },
    mine || m.senderType === "system" ? null : el("span", { class: "from" }, m.senderName || "Support"),
    m.text ? el("p", { class: "text" }, m.text) : null,
    attachmentList(m.attachments, { token: state.token, guestId: state.guestId }),
    el("span", { class: "meta" }, time(m.timestamp), mine ? el("span", { class: "tick" }, "✓") : null),
  );
  const after = [...$("log").children].find((li) => Number(li.dataset.seq) > m.seq);
  $("log").insertBefore(node, after ?? null);
  $("log").scrollTop = $("log").scrollHeight;
  ticks();
}

const ticks = () => renderTicks($("log"), state.readUpTo);

function markRead() {
  if (state.open && state.lastSeq) state.conn?.send({ type: "read", sessionId: state.conversationId, upToSeq: state.lastSeq });
}

function sendMessage(text, attachments = []) {
  const clientId = crypto.randomUUID();
  const node = el("li", { class: "msg out pending" }, text ? el("p", { class: "text" }, text) : null, el("span", { class: "meta" }, "sending…"));
  $("log").append(node);
  state.pending.set(clientId, { node, text, attachments });
  const frame = { type: "customer_message", message: text, clientId, attachments: attachments.map((a) => a.id) };
  if (!state.registered || !state.conn?.send(frame)) state.outbox.push(frame);
}

/** Files go up first (with progress), then a message carries them. */
function upload(files) {
  const form = new FormData();
  for (const f of files) form.append("attachments", f, f.name);
  const url = state.token ? "/api/v1/chat/upload" : `/api/v1/chat/upload?guestId=${encodeURIComponent(state.guestId)}`;
  const xhr = new XMLHttpRequest();
  xhr.open("POST", url);
  if (state.token) xhr.setRequestHeader("authorization", `Bearer ${state.token}`);
  const bar = $("progress");
  bar.hidden = false;
  bar.value = 0;
  xhr.upload.onprogress = (e) => e.lengthComputable && (bar.value = (100 * e.loaded) / e.total);
  xhr.onload = () => {
    bar.hidden = true;
    let body = {};
    try {
      body = JSON.parse(xhr.responseText);
    } catch {}
    if (xhr.status >= 300) return ($("error").textContent = body.message || `Upload failed (${xhr.status})`);
    const attachments = body.data.map((a) => ({ id: a.id, fileName: a.file_name, fileType: a.file_type, fileUrl: a.file_url }));
    sendMessage("", attachments);
  };
  xhr.onerror = () => {
    bar.hidden = true;
    $("error").textContent = "Upload failed";
  };
  xhr.send(form);
}

async function openWidget() {
  state.open = true;
  $("widget").hidden = false;
  $("bubble").setAttribute("aria-expanded", "true");
  $("dot").hidden = true;
  $("error").textContent = "";
  try {
    if (!(await ensureConversation())) return;
    if (!state.conn) start();
    checkAvailability();
    markRead();
    $("text").focus();
  } catch (e) {
    $("error").textContent = e.message;
  }
}

function closeWidget() {
  state.open = false;
  $("widget").hidden = true;
  $("bubble").setAttribute("aria-expanded", "false");
  $("bubble").focus();
}

/** Tab and Shift+Tab stay inside the open widget (Esc leaves it). */
$("widget").addEventListener("keydown", (e) => {
  if (e.key !== "Tab") return;
  const focusable = [...$("widget").querySelectorAll("button, input, textarea, select, summary, a[href]")].filter(
    (n) => !n.disabled && n.getClientRects().length > 0,
  );
  if (!focusable.length) return;
  const [first, last] = [focusable[0], focusable[focusable.length - 1]];
  if (e.shiftKey && document.activeElement === first) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first.focus();
  }
});

$("bubble").addEventListener("click", () => (state.open ? closeWidget() : openWidget()));
$("close-widget").addEventListener("click", closeWidget);
document.addEventListener("keydown", (e) => e.key === "Escape" && state.open && closeWidget());

let typingAt = 0;
$("text").addEventListener("input", () => {
  if (Date.now() - typingAt > 3000 && state.conversationId) {
    typingAt = Date.now();
    state.conn?.send({ type: "typing", sessionId: state.conversationId, isTyping: true });
  }
});
$("compose").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  const email = $("away-email").value.trim();
  if (state.away && email && !state.emailLeft) {
    leaveMessage(text, email);
    $("text").value = "";
    return;
  }
  sendMessage(text);
  state.conn?.send({ type: "typing", sessionId: state.conversationId, isTyping: false });
  typingAt = 0;
  $("text").value = "";
});
$("file").addEventListener("change", () => {
  if ($("file").files.length) upload([...$("file").files]);
  $("file").value = "";
});
$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  state.token = $("token").value.trim() || null;
  state.identity += 1;
  state.conversationId = null;
  state.lastSeq = 0;
  state.seen.clear();
  $("log").replaceChildren();
  save();
  state.conn?.close();
  state.conn = null;
  state.registered = false;
  openWidget();
});

// A conversation from an earlier visit continues at once (replies arrive with the dot).
if (state.conversationId) start();

/** Our place in the queue while we wait for an agent ("position: null" once one has us). */
function showQueue(f) {
  if (f.sessionId !== state.conversationId) return;
  const box = $("queue");
  box.hidden = f.position == null;
  if (box.hidden) return;
  const wait = f.expectedWaitSeconds;
  const about = wait == null ? "" : wait < 60 ? " · about a minute" : ` · about ${Math.round(wait / 60)} min`;
  box.textContent = f.position === 1 ? `You are next in line${about}` : `You are number ${f.position} in line${about}`;
  box.dataset.position = String(f.position);
}

// ---- rating: asked for once the conversation is resolved --------------------------

let score = 0;
function showRating(c) {
  const resolved = c.status === "resolved" || c.status === "closed";
  $("rating").hidden = !resolved || !!c.rating;
  $("rated").hidden = !c.rating;
}

for (const star of document.querySelectorAll("#rating .stars button")) {
  star.addEventListener("click", () => {
    score = Number(star.dataset.score);
    document.querySelectorAll("#rating .stars button").forEach((b) => b.classList.toggle("on", Number(b.dataset.score) <= score));
    $("rating-send").disabled = false;
  });
}

$("rating").addEventListener("submit", (e) => {
  e.preventDefault();
  if (!score || !state.conn) return;
  const comment = $("rating-comment").value.trim();
  state.conn.send({ type: "rate", rating: score, comment: comment || undefined });
});

// ---- transcript: the conversation as a text file -----------------------------------

$("transcript").addEventListener("click", async () => {
  if (!state.conversationId) return;
  const headers = state.token ? { authorization: `Bearer ${state.token}` } : {};
  const guest = !state.token && state.guestId ? `&guestId=${encodeURIComponent(state.guestId)}` : "";
  const res = await fetch(`/api/chat/sessions/${encodeURIComponent(state.conversationId)}/transcript?format=text${guest}`, { headers });
  if (!res.ok) {
    $("error").textContent = (await res.json().catch(() => ({}))).message || `HTTP ${res.status}`;
    return;
  }
  const link = el("a", { href: URL.createObjectURL(await res.blob()), download: `conversation-${state.conversationId}.txt` });
  link.click();
});

// ---- who we are, for the agent -----------------------------------------------------

/** "Chrome 131 on Linux" where the browser says so plainly, else its user agent. */
function browserName() {
  const d = navigator.userAgentData;
  const brands = (d?.brands ?? []).filter((b) => !/not.?a.?brand/i.test(b.brand));
  const brand = brands.find((b) => b.brand !== "Chromium") ?? brands[0];
  if (brand) return `${brand.brand} ${brand.version}${d.platform ? ` on ${d.platform}` : ""}`;
  return navigator.userAgent.slice(0, 200);
}

function timeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;
  } catch {
    return undefined;
  }
}

// ---- office hours: away, a message and an email instead ------------------------------

async function checkAvailability() {
  try {
    showAway(await api("GET", "/api/support/availability"));
  } catch {
    // Not knowing, the widget offers the live chat as ever.
  }
}

function showAway(a) {
  state.away = !a.open;
  $("away").hidden = a.open;
  $("text").placeholder = a.open ? "Write a message (Enter sends)" : "Leave a message (Enter sends)";
  if (a.open) return;
  const why = { holiday: "We're closed today.", outside_hours: "We're outside our office hours." }[a.reason] ?? "Nobody from our team is online right now.";
  const at = a.nextOpenAt && new Date(a.nextOpenAt).toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" });
  $("away-text").textContent = `${why}${at ? ` We're back ${at}.` : ""} Leave a message and your email, and we'll write back.`;
}

/** A message with an email, stored with the conversation (and answered automatically). */
async function leaveMessage(text, email) {
  const node = el("li", { class: "msg out pending" }, el("p", { class: "text" }, text), el("span", { class: "meta" }, "sending…"));
  $("log").append(node);
  try {
    const r = await api("POST", "/api/support/offline-message", {
      message: text,
      email,
      sessionId: state.conversationId,
      guestId: state.token ? undefined : state.guestId,
      clientId: crypto.randomUUID(),
    });
    node.remove();
    for (const m of [r.message, r.autoReply].filter(Boolean)) {
      add({ id: m.id, seq: m.seq, text: m.message, senderType: m.senderType === "system" ? "system" : "mine", timestamp: m.createdAt, attachments: [] });
    }
    state.emailLeft = true;
    $("away-email").disabled = true;
    $("away-done").hidden = false;
    $("away-done").textContent = `Thanks! We'll reply to ${email}.`;
  } catch (e) {
    node.remove();
    $("text").value = text;
    $("error").textContent = e.message;
  }
}

// ---- the look admins set in the console ----------------------------------------------

async function applyLook() {
  let look;
  try {
    look = (await api("GET", "/api/widget")).data;
  } catch {
    return; // the default look
  }
  document.documentElement.style.setProperty("--accent", look.color);
  // Text on the colour: black or white, whichever reads better (WCAG contrast).
  document.documentElement.style.setProperty("--accent-ink", luminance(look.color) > 0.179 ? "#000" : "#fff");
  document.body.classList.toggle("widget-left", look.position === "left");
  if (look.teamName) {
    $("team-name").textContent = look.teamName;
    $("typing").textContent = `${look.teamName} is typing…`;
  }
  $("team-avatar").hidden = !look.avatarUrl;
  if (look.avatarUrl) $("team-avatar").src = look.avatarUrl;
  $("greeting").hidden = !look.greeting;
  $("greeting").textContent = look.greeting ?? "";
}

applyLook();

/** A `#rgb`/`#rrggbb` colour's relative luminance (WCAG 2). */
function luminance(hex) {
  const h = hex.length === 4 ? [...hex.slice(1)].map((c) => c + c).join("") : hex.slice(1);
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(h.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
