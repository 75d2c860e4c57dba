// The agent console: inbox by status (live), one conversation at a time with paged
// history, replies, typing, read ticks, attachments, accept / assign / resolve / close,
// onboarding codes, and who of the staff is online. Native /ws protocol plus REST.
import { attachmentList, connect, el, messageOf, renderTicks as showTicks, time, toast, tokenFromLink } from "./common.js";

const $ = (id) => document.getElementById(id);
const PAGE = 30;

const state = {
  // The first-run link (or "Go live"'s counterpart) signs in through the fragment.
  token: tokenFromLink("sb-staff-token"),
  me: null,
  status: "waiting",
  label: "", // the inbox's label filter
  knownLabels: new Set(),
  current: null, // the open conversation's id
  conversation: null,
  messages: new Map(), // id → message, for the open conversation
  oldestSeq: null,
  hasMore: false,
  lastSeq: 0,
  readUpTo: 0, // the customer's read cursor in the open conversation
  staff: new Map(),
  conn: null,
};

function signIn(token) {
  state.token = token;
  sessionStorage.setItem("sb-staff-token", token);
  // The live page's host mode, signed in the same way (the fragment never leaves the browser).
  $("golive").href = `/live#token=${encodeURIComponent(token)}`;
  $("signin").hidden = true;
  $("console").hidden = false;
  state.conn?.close();
  state.conn = connect({
    badge: $("conn"),
    onOpen: (send) => {
      state.registered = false;
      send({ type: "register_admin", token: state.token });
    },
    onFrame,
  });
}

function send(frame) {
  if (!state.conn?.send(frame)) toast($("toast"), "Not connected; try again in a moment.");
}

function onFrame(f, send) {
  switch (f.type) {
    case "admin_registered":
      state.registered = true;
      for (const frame of outbox.splice(0)) send(frame);
      state.me = f.userId;
      $("me").textContent = f.userId;
      send({ type: "online_staff" });
      // Where we stand (availability) comes with the queue's answer.
      send({ type: "queue" });
      loadInbox();
      loadCanned();
      loadHours();
      loadLook();
      if (state.current) {
        // Back after a reconnect: rejoin, and fetch what came meanwhile.
        send({ type: "join", sessionId: state.current });
        send({ type: "history", sessionId: state.current, afterSeq: state.lastSeq, limit: 200 });
      }
      break;
    case "inbox":
      // Answers may overtake each other: an answer for another filter is stale.
      if ((f.status ?? null) === (state.status ?? null) && (f.label ?? null) === (state.label || null)) renderInbox(f.conversations);
      break;
    case "joined":
      if (f.sessionId === state.current) showConversation(f.conversation);
      break;
    case "history":
      if (f.sessionId === state.current) addHistory(f.messages.map(messageOf), f.hasMore);
      break;
    case "customer_message":
    case "staff_reply":
    case "staff_note":
    case "system_message":
    case "message_ack":
      onMessage(f);
      break;
    case "conversation_updated":
      onConversation(f);
      if (!$("queue-view").hidden) loadQueue();
      break;
    case "typing":
      if (f.sessionId === state.current && f.userId !== state.me) {
        $("typing").hidden = !f.isTyping;
        $("typing").textContent = `${f.name || "Customer"} is typing…`;
      }
      break;
    case "messages_read":
      if (f.sessionId === state.current && f.readerId !== state.me) {
        state.readUpTo = Math.max(state.readUpTo, f.upToSeq);
        renderTicks();
      }
      break;
    case "agent":
      if (f.agent.id === state.me) $("availability").value = f.agent.availability;
      break;
    case "agent_updated":
      if (f.userId === state.me) $("availability").value = f.availability;
      if (!$("queue-view").hidden) loadQueue();
      break;
    case "queue":
      renderQueue(f);
      break;
    case "search_results":
      if (f.q === search.q) showResults(f);
      break;
    case "online_staff":
      state.staff = new Map(f.staff.map((s) => [s.id, s.name]));
      renderStaff();
      break;
    case "staff_presence":
      if (f.online) state.staff.set(f.userId, f.name);
      else state.staff.delete(f.userId);
      renderStaff();
      break;
    case "error":
      if (f.code === "auth_failed" || f.code === "token_required" || f.code === "forbidden") {
        if (!state.me) return signOut(f.message);
      }
      toast($("toast"), f.message);
      break;
  }
}

function signOut(why) {
  state.conn?.close();
  sessionStorage.removeItem("sb-staff-token");
  $("console").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = why;
}

// ---- inbox -------------------------------------------------------------------------

let inboxTimer = null;
function loadInbox() {
  clearTimeout(inboxTimer);
  inboxTimer = setTimeout(() => send({ type: "inbox", status: state.status, label: state.label || undefined, limit: 100 }), 50);
}

function renderInbox(conversations) {
  const list = $("inbox");
  list.replaceChildren(
    ...conversations.map((c) => {
      const last = c.lastMessage;
      const unread = c.id === state.current ? 0 : c.unreadCount ?? 0;
      return el(
        "li",
        { class: c.id === state.current ? "item open" : "item", "data-id": c.id },
        el(
          "button",
          { type: "button", onclick: () => open(c.id) },
          el("span", { class: "who" }, c.customerName || "Guest"),
          unread ? el("span", { class: "badge", title: "unread" }, String(unread)) : null,
          el("span", { class: "last muted" }, last ? last.message || (last.attachments?.length ? "(file)" : "") : c.subject || ""),
          el("span", { class: "when muted" }, time(c.updatedAt)),
          c.labels?.length ? el("span", { class: "labels" }, ...c.labels.map((l) => el("span", { class: "label" }, l))) : null,
        ),
      );
    }),
  );
  for (const c of conversations) learnLabels(c.labels);
  const filter = state.label ? ` labelled “${state.label}”` : "";
  if (!conversations.length) list.append(el("li", { class: "muted empty" }, `No ${state.status} conversations${filter}.`));
}

for (const b of document.querySelectorAll(".filters button")) {
  b.addEventListener("click", () => {
    document.querySelectorAll(".filters button").forEach((x) => x.classList.toggle("active", x === b));
    const queue = b.dataset.status === "queue";
    $("queue-view").hidden = !queue;
    $("inbox").hidden = queue;
    if (queue) return loadQueue();
    state.status = b.dataset.status;
    loadInbox();
  });
}

// ---- one conversation --------------------------------------------------------------

function open(id) {
  if (state.current && state.current !== id) send({ type: "leave", sessionId: state.current });
  Object.assign(state, { current: id, messages: new Map(), oldestSeq: null, hasMore: false, lastSeq: 0, readUpTo: 0 });
  $("log").replaceChildren();
  $("code-out").hidden = true;
  $("typing").hidden = true;
  $("thread").hidden = false;
  $("empty").hidden = true;
  send({ type: "join", sessionId: id });
  send({ type: "history", sessionId: id, beforeSeq: 2 ** 53 - 1, limit: PAGE });
  loadInbox();
  $("reply-text").focus();
}

function closeThread() {
  if (state.current) send({ type: "leave", sessionId: state.current });
  state.current = null;
  $("thread").hidden = true;
  $("empty").hidden = false;
  loadInbox();
}

function showConversation(c) {
  state.conversation = c;
  $("thread-title").textContent = `${c.customerName || "Guest"}${c.subject ? ` · ${c.subject}` : ""}`;
  $("thread-status").textContent = c.status;
  $("thread-status").dataset.status = c.status;
  learnLabels(c.labels);
  $("thread-snoozed").hidden = !c.snoozedUntil;
  if (c.snoozedUntil) $("thread-snoozed").textContent = `snoozed until ${new Date(c.snoozedUntil).toLocaleString([], { dateStyle: "short", timeStyle: "short" })}`;
  $("thread-rating").hidden = !c.rating;
  if (c.rating) $("thread-rating").textContent = `${"★".repeat(c.rating.score)}${"☆".repeat(5 - c.rating.score)}${c.rating.comment ? ` “${c.rating.comment}”` : ""}`;
  $("labels").replaceChildren(
    ...(c.labels ?? []).map((l) =>
      el("li", { class: "label" }, l, el("button", { type: "button", class: "ghost", title: `Remove ${l}`, "aria-label": `Remove label ${l}`, onclick: () => send({ type: "remove_label", sessionId: c.id, label: l }) }, "×")),
    ),
  );
  showCustomer(c);
  $("accept").disabled = c.status !== "waiting";
  $("resolve").disabled = c.status === "resolved" || c.status === "closed";
  $("close").disabled = c.status === "closed";
}

function addHistory(messages, hasMore) {
  const log = $("log");
  const first = state.oldestSeq === null;
  const older = !first && messages.length > 0 && messages[0].seq < state.oldestSeq;
  const before = log.scrollHeight - log.scrollTop;
  for (const m of messages) addMessage(m, older);
  // Only pages going back say whether there is more before them.
  if (first || older) state.hasMore = hasMore;
  // Older messages keep the view where it was; anything else goes to the newest.
  log.scrollTop = older ? log.scrollHeight - before : log.scrollHeight;
  markRead();
}

function addMessage(m, prepend = false) {
  if (!m.id || state.messages.has(m.id)) return;
  state.messages.set(m.id, m);
  state.lastSeq = Math.max(state.lastSeq, m.seq ?? 0);
  if (state.oldestSeq === null || m.seq < state.oldestSeq) state.oldestSeq = m.seq;
  const mine = m.senderType === "agent" || m.senderType === "admin";
  const side = m.senderType === "system" ? "system" : mine ? "out" : "in";
  const node = el(
    "li",
    { class: `msg ${side}${m.private ? " note" : ""}`, "data-seq": m.seq, "data-id": m.id },
    m.senderType === "system" ? null : el("span", { class: "from" }, m.private ? `Note · ${m.senderName}` : m.senderName),
    m.text ? el("p", { class: "text" }, m.text) : null,
    attachmentList(m.attachments, { token: state.token }),
    el("span", { class: "meta" }, time(m.timestamp), mine && !m.private ? el("span", { class: "tick" }, "✓") : null),
  );
  // Keep the log in seq order whatever order pages and live messages arrive in.
  const after = [...$("log").children].find((li) => Number(li.dataset.seq) > m.seq);
  if (prepend || after) $("log").insertBefore(node, after ?? $("log").firstChild);
  else $("log").append(node);
  renderTicks();
}

const renderTicks = () => showTicks($("log"), state.readUpTo);

function markRead() {
  if (state.current && document.visibilityState === "visible" && state.lastSeq) {
    send({ type: "read", sessionId: state.current, upToSeq: state.lastSeq });
  }
}

function onMessage(f) {
  const sessionId = f.sessionId;
  if (f.type === "message_ack") {
    // Our own reply, stored: it replaces its "sending…" placeholder.
    const sent = pending.get(f.clientId);
    pending.delete(f.clientId);
    sent?.item.remove();
    if (sent && sessionId === state.current) {
      addMessage({ id: f.id, seq: f.seq, sessionId, senderType: "agent", senderName: $("me").textContent, text: sent.text, timestamp: f.timestamp, attachments: [], private: f.private });
      $("log").scrollTop = $("log").scrollHeight;
    }
    return;
  }
  if (sessionId === state.current) {
    addMessage(messageOf(f));
    $("log").scrollTop = $("log").scrollHeight;
    if (f.type === "customer_message") {
      $("typing").hidden = true;
      markRead();
    }
  }
  loadInbox();
}

function onConversation(f) {
  if (f.change === "created") {
    announce(`New conversation: ${f.conversation.customerName || "Guest"}`);
  }
  if (f.sessionId === state.current) showConversation(f.conversation);
  loadInbox();
}

$("log").addEventListener("scroll", () => {
  if ($("log").scrollTop < 40 && state.hasMore && state.current) {
    state.hasMore = false; // one page request at a time
    send({ type: "history", sessionId: state.current, beforeSeq: state.oldestSeq, limit: PAGE });
  }
});

// ---- replying and acting -----------------------------------------------------------

const pending = new Map();
const outbox = [];
let typingSent = 0;
$("reply-text").addEventListener("input", () => {
  // A note being written is not typing the customer should see.
  if (state.current && !$("note-mode").checked && Date.now() - typingSent > 3000) {
    typingSent = Date.now();
    send({ type: "typing", sessionId: state.current, isTyping: true });
  }
});

$("reply").addEventListener("submit", (e) => {
  e.preventDefault();
  if (pickCanned()) return;
  const text = $("reply-text").value.trim();
  if (!text || !state.current) return;
  const clientId = crypto.randomUUID();
  const note = $("note-mode").checked;
  const item = el("li", { class: `msg out pending${note ? " note" : ""}` }, el("p", { class: "text" }, text), el("span", { class: "meta" }, "sending…"));
  $("log").append(item);
  $("log").scrollTop = $("log").scrollHeight;
  pending.set(clientId, { item, text });
  const frame = { type: note ? "staff_note" : "staff_message", sessionId: state.current, content: text, clientId };
  // Not connected: it goes out after the next sign-in, its client id keeping it single.
  if (!state.registered || !state.conn?.send(frame)) outbox.push(frame);
  send({ type: "typing", sessionId: state.current, isTyping: false });
  typingSent = 0;
  $("reply-text").value = "";
});

// Note mode: what is written goes to staff only, and looks it.
$("note-mode").addEventListener("change", () => {
  const note = $("note-mode").checked;
  $("reply").classList.toggle("note", note);
  $("reply-text").placeholder = note ? "Private note, staff only (Enter saves)" : "Reply (Enter sends, / for canned responses)";
  $("reply-text").focus();
});

$("accept").addEventListener("click", () => send({ type: "accept", sessionId: state.current }));
$("resolve").addEventListener("click", () => send({ type: "set_status", sessionId: state.current, status: "resolved" }));
$("close").addEventListener("click", () => send({ type: "set_status", sessionId: state.current, status: "closed" }));
$("assign").addEventListener("change", () => {
  const agentId = $("assign").value;
  if (agentId) send({ type: "assign", sessionId: state.current, agentId, agentName: state.staff.get(agentId) });
  $("assign").value = "";
});
$("back").addEventListener("click", closeThread);
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && state.current) closeThread();
});
document.addEventListener("visibilitychange", markRead);

$("code").addEventListener("click", async () => {
  const c = state.conversation;
  const res = await fetch("/api/support/onboarding/generate-code", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${state.token}` },
    body: JSON.stringify({ conversationId: state.current, userId: c?.customerId ?? undefined, guestId: c?.guestId ?? undefined }),
  });
  const body = await res.json().catch(() => ({}));
  const out = $("code-out");
  out.hidden = false;
  out.textContent = res.ok
    ? `Code ${body.code} (valid until ${time(body.expiresAt)}), also sent in the chat.`
    : body.message || "Could not create a code.";
});

function renderStaff() {
  $("staff").replaceChildren(...[...state.staff].map(([id, name]) => el("li", {}, el("span", { class: "dot" }), name || id)));
  $("assign").replaceChildren(
    el("option", { value: "" }, "Assign…"),
    ...[...state.staff].map(([id, name]) => el("option", { value: id }, name || id)),
  );
}

// ---- attention: a new conversation blinks the title and beeps ----------------------

let blink = null;
function announce(text) {
  toast($("toast"), text);
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    osc.connect(ctx.destination);
    osc.frequency.value = 880;
    osc.start();
    osc.stop(ctx.currentTime + 0.15);
  } catch {}
  if (blink) return;
  // Until the agent is back at the console (focus, a click or a key), the title blinks.
  const title = document.title;
  document.title = `● ${text}`;
  blink = setInterval(() => (document.title = document.title === title ? `● ${text}` : title), 1000);
  const stop = () => {
    clearInterval(blink);
    blink = null;
    document.title = title;
    for (const e of ["focus", "pointerdown", "keydown"]) window.removeEventListener(e, stop);
  };
  for (const e of ["focus", "pointerdown", "keydown"]) window.addEventListener(e, stop);
}

$("signin-form").addEventListener("submit", (e) => {
  e.preventDefault();
  $("signin-error").textContent = "";
  signIn($("token").value.trim());
});

if (state.token) signIn(state.token);

// ---- canned responses: "/" and a shortcut in the composer --------------------------

const canned = { all: [], shown: [], active: 0 };

async function desk(method, path, body) {
  const res = await fetch(`/api/desk${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${state.token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.message || `${res.status}`);
  return json;
}

async function loadCanned() {
  try {
    canned.all = (await desk("GET", "/canned-responses")).data;
  } catch (e) {
    return toast($("toast"), `Canned responses: ${e.message}`);
  }
  const admin = tokenClaims().role === "admin";
  $("canned-admin").hidden = !admin;
  if (admin) renderCannedAdmin();
}

function tokenClaims() {
  try {
    return JSON.parse(atob(state.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    return {};
  }
}

/** A snippet with its placeholders filled in for the open conversation. */
function expand(content) {
  const customer = state.conversation?.customerName || "";
  const agent = tokenClaims().name || state.staff.get(state.me) || state.me || "";
  return content.replaceAll("{{customer.name}}", customer).replaceAll("{{agent.name}}", agent);
}

function renderCanned() {
  const list = $("canned");
  list.hidden = canned.shown.length === 0;
  list.replaceChildren(
    ...canned.shown.map((c, i) =>
      el(
        "li",
        { role: "option", class: i === canned.active ? "active" : "", "aria-selected": String(i === canned.active), onmousedown: (e) => (e.preventDefault(), (canned.active = i), pickCanned()) },
        el("strong", {}, `/${c.shortcut}`),
        " ",
        el("span", { class: "muted" }, c.content),
      ),
    ),
  );
}

$("reply-text").addEventListener("input", () => {
  const typed = /^\/(\S*)$/.exec($("reply-text").value);
  canned.shown = typed ? canned.all.filter((c) => c.shortcut.startsWith(typed[1].toLowerCase())).slice(0, 8) : [];
  canned.active = 0;
  renderCanned();
});

$("reply-text").addEventListener("keydown", (e) => {
  if (!canned.shown.length) return;
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    e.preventDefault();
    const n = canned.shown.length;
    canned.active = (canned.active + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
    renderCanned();
  } else if (e.key === "Tab") {
    e.preventDefault();
    pickCanned();
  } else if (e.key === "Escape") {
    e.stopPropagation();
    canned.shown = [];
    renderCanned();
  }
});

/** Put the chosen snippet in the composer (to read over before sending); false when
 * no list was open. */
function pickCanned() {
  const chosen = canned.shown[canned.active];
  if (!chosen) return false;
  $("reply-text").value = expand(chosen.content);
  canned.shown = [];
  renderCanned();
  $("reply-text").focus();
  return true;
}

function renderCannedAdmin() {
  $("canned-list").replaceChildren(
    ...canned.all.map((c) =>
      el(
        "li",
        {},
        el("strong", {}, `/${c.shortcut}`),
        " ",
        el("span", { class: "muted" }, c.content),
        el("button", { type: "button", class: "ghost", title: `Delete /${c.shortcut}`, onclick: () => removeCanned(c) }, "×"),
      ),
    ),
  );
}

async function removeCanned(c) {
  try {
    await desk("DELETE", `/canned-responses/${encodeURIComponent(c.id)}`);
  } catch (e) {
    return toast($("toast"), e.message);
  }
  loadCanned();
}

$("canned-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await desk("POST", "/canned-responses", { shortcut: $("canned-shortcut").value, content: $("canned-content").value });
  } catch (err) {
    return toast($("toast"), err.message);
  }
  $("canned-shortcut").value = "";
  $("canned-content").value = "";
  loadCanned();
});

// ---- labels: on the open conversation, and the inbox's filter ----------------------

function learnLabels(labels) {
  const before = state.knownLabels.size;
  for (const l of labels ?? []) state.knownLabels.add(l);
  if (state.knownLabels.size !== before) {
    $("known-labels").replaceChildren(...[...state.knownLabels].sort().map((l) => el("option", { value: l })));
  }
}

$("label-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const label = $("label-add").value.trim();
  if (label && state.current) send({ type: "add_label", sessionId: state.current, label });
  $("label-add").value = "";
});

let labelTimer = null;
$("label-filter").addEventListener("input", () => {
  clearTimeout(labelTimer);
  labelTimer = setTimeout(() => {
    state.label = $("label-filter").value.trim().toLowerCase();
    loadInbox();
  }, 250);
});

// ---- search: customers by name or id, messages by text, highlighted ----------------

const search = { q: "", offset: 0 };
let searchTimer = null;

function runSearch(offset = 0) {
  search.q = $("search").value.trim();
  search.offset = offset;
  const searching = search.q !== "";
  $("results").hidden = !searching;
  $("inbox").hidden = searching || !$("queue-view").hidden;
  if (searching) send({ type: "search", q: search.q, offset, limit: 20 });
}

$("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => runSearch(0), 250);
});
$("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  runSearch(0);
});
$("more-results").addEventListener("click", () => runSearch(search.offset + 20));

/** A hit's snippet, matched words in <mark>, built as text nodes (never as HTML). */
const snippet = (parts) => el("span", { class: "snippet" }, ...parts.map((p) => (p.match ? el("mark", {}, p.text) : p.text)));

function showResults(f) {
  const list = $("result-list");
  if (f.offset === 0) list.replaceChildren();
  if (f.offset === 0 && f.conversations.length) {
    list.append(el("li", { class: "muted heading" }, "Customers"));
    for (const c of f.conversations) {
      list.append(el("li", { class: "item hit" }, el("button", { type: "button", onclick: () => open(c.id) }, el("span", { class: "who" }, c.customerName || "Guest"), el("span", { class: "when muted" }, c.status))));
    }
  }
  if (f.offset === 0) list.append(el("li", { class: "muted heading" }, f.total ? `Messages (${f.total})` : "No messages found."));
  for (const m of f.messages) {
    list.append(
      el(
        "li",
        { class: `item hit${m.private ? " note" : ""}`, "data-id": m.messageId },
        el(
          "button",
          { type: "button", onclick: () => open(m.sessionId) },
          el("span", { class: "who" }, m.customerName || "Guest"),
          el("span", { class: "when muted" }, time(m.timestamp)),
          el("span", { class: "last" }, m.private ? "Note · " : `${m.senderName}: `, snippet(m.parts)),
        ),
      ),
    );
  }
  $("more-results").hidden = !f.hasMore;
}

// ---- availability and the queue ---------------------------------------------------

$("availability").addEventListener("change", () => send({ type: "set_availability", availability: $("availability").value }));

let queueTimer = null;
function loadQueue() {
  clearTimeout(queueTimer);
  queueTimer = setTimeout(() => send({ type: "queue" }), 50);
}

const minutes = (s) => (s == null ? "" : `${Math.max(1, Math.round(s / 60))} min`);

function renderQueue(f) {
  const mine = f.agents.find((a) => a.id === state.me);
  if (mine) $("availability").value = mine.availability;
  $("queue-list").replaceChildren(
    ...f.queue.map((q) =>
      el(
        "li",
        { class: "queued", "data-id": q.sessionId },
        el("button", { type: "button", class: "ghost", onclick: () => open(q.sessionId) },
          el("span", { class: "pos" }, `#${q.position}`),
          el("span", { class: "who" }, q.customerName || "Guest"),
          el("span", { class: "muted" }, `waiting since ${time(q.waitingSince)}`),
          q.expectedWaitSeconds == null ? null : el("span", { class: "muted" }, ` · ~${minutes(q.expectedWaitSeconds)}`)),
      ),
    ),
  );
  if (!f.queue.length) $("queue-list").append(el("li", { class: "muted empty" }, "Nobody is waiting."));
  const admin = tokenClaims().role === "admin";
  $("agents").tBodies[0].replaceChildren(
    ...f.agents.map((a) =>
      el(
        "tr",
        { "data-id": a.id },
        el("td", {}, a.name || a.id, a.online ? null : el("span", { class: "muted" }, " (offline)")),
        el("td", { class: `avail ${a.availability}` }, a.availability),
        el(
          "td",
          {},
          `${a.active} / `,
          admin
            ? el("input", { type: "number", min: "0", max: "100", value: String(a.capacity), class: "capacity", "aria-label": `Capacity of ${a.name || a.id}`,
                onchange: (e) => send({ type: "set_capacity", userId: a.id, capacity: e.target.value === "" ? null : Number(e.target.value) }) })
            : String(a.capacity),
        ),
      ),
    ),
  );
}

// ---- transcripts ---------------------------------------------------------------------

$("transcript").addEventListener("click", async () => {
  if (!state.current) return;
  const res = await fetch(`/api/chat/sessions/${encodeURIComponent(state.current)}/transcript?format=html`, {
    headers: { authorization: `Bearer ${state.token}` },
  });
  if (!res.ok) return toast($("toast"), `Transcript: ${(await res.json().catch(() => ({}))).message || res.status}`);
  window.open(URL.createObjectURL(await res.blob()), "_blank");
});

// ---- snooze ---------------------------------------------------------------------------

/** When a snooze choice ends, as the server reads times. */
function snoozeUntil(choice) {
  const t = new Date();
  if (choice === "1h") t.setHours(t.getHours() + 1);
  if (choice === "tomorrow") {
    t.setDate(t.getDate() + 1);
    t.setHours(9, 0, 0, 0);
  }
  if (choice === "week") t.setDate(t.getDate() + 7);
  return t.toISOString();
}

$("snooze").addEventListener("change", () => {
  const choice = $("snooze").value;
  $("snooze").value = "";
  if (!choice || !state.current) return;
  send({ type: "snooze", sessionId: state.current, until: choice === "wake" ? null : snoozeUntil(choice) });
});

// ---- who the customer is ---------------------------------------------------------------

function localTime(timeZone) {
  try {
    return `${new Date().toLocaleTimeString([], { timeZone, hour: "2-digit", minute: "2-digit" })} (${timeZone})`;
  } catch {
    return timeZone;
  }
}

function showCustomer(c) {
  const k = c.customer ?? {};
  const who = c.customerId ? `${c.customerName} · signed in as ${c.customerId}` : `${c.customerName || "Guest"} · guest`;
  const page = k.pageUrl && el("a", { href: k.pageUrl, target: "_blank", rel: "noopener noreferrer" }, k.pageTitle || k.pageUrl);
  const facts = [
    ["Who", who],
    ["Email", k.email],
    ["Page", page],
    ["Browser", k.browser],
    ["Local time", k.timeZone && localTime(k.timeZone)],
    ...Object.entries(k.attributes ?? {}),
  ].filter(([, v]) => v);
  $("customer-facts").replaceChildren(...facts.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
  loadPrevious(c);
}

let previousOf = null;
/** The customer's other conversations, newest first, each a click from the thread. */
async function loadPrevious(c) {
  if (previousOf === c.id) return;
  previousOf = c.id;
  const who = c.customerId ? `customerId=${encodeURIComponent(c.customerId)}` : c.guestId ? `guestId=${encodeURIComponent(c.guestId)}` : null;
  $("previous").replaceChildren();
  if (!who) return;
  let list;
  try {
    list = (await desk("GET", `/conversations?${who}&limit=20`)).data;
  } catch (e) {
    return toast($("toast"), `Previous conversations: ${e.message}`);
  }
  if (previousOf !== c.id) return;
  const others = list.filter((x) => x.id !== c.id);
  $("previous").replaceChildren(
    ...others.map((x) =>
      el(
        "li",
        { "data-id": x.id },
        el("button", { type: "button", class: "ghost", onclick: () => open(x.id) },
          `${new Date(x.createdAt).toLocaleDateString()} · ${x.type === "general" ? "" : `${x.type.replace("_", " ")} · `}${x.status}`,
          x.lastMessage?.message ? el("span", { class: "muted" }, ` — ${x.lastMessage.message.slice(0, 60)}`) : null),
      ),
    ),
  );
  if (!others.length) $("previous").append(el("li", { class: "muted" }, "None"));
}

// ---- office hours (admins) ----------------------------------------------------------------

const DAYS = [["mon", "Mon"], ["tue", "Tue"], ["wed", "Wed"], ["thu", "Thu"], ["fri", "Fri"], ["sat", "Sat"], ["sun", "Sun"]];

async function loadHours() {
  const admin = tokenClaims().role === "admin";
  $("hours-admin").hidden = !admin;
  if (!admin) return;
  try {
    fillHours((await desk("GET", "/office-hours")).data);
  } catch (e) {
    toast($("toast"), `Office hours: ${e.message}`);
  }
}

/** The form from stored hours (one span a day here; the API takes several). */
function fillHours(h) {
  $("hours-tz").value = h?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  $("hours-days").tBodies[0].replaceChildren(
    ...DAYS.map(([day, label]) => {
      const span = h?.weekly?.[day]?.[0];
      const weekday = !h && !["sat", "sun"].includes(day);
      return el(
        "tr",
        { "data-day": day },
        el("td", {}, el("label", {}, el("input", { type: "checkbox", class: "on", checked: !!span || weekday }), ` ${label}`)),
        el("td", {}, el("input", { type: "time", class: "open", value: span?.open ?? "09:00", "aria-label": `${label} opens` })),
        el("td", {}, el("input", { type: "time", class: "close", value: span?.close === "24:00" ? "00:00" : span?.close ?? "17:00", "aria-label": `${label} closes` })),
      );
    }),
  );
  $("hours-holidays").value = (h?.holidays ?? []).join(", ");
  $("hours-reply").value = h?.autoReply ?? "";
  showHoursStatus(h);
}

async function showHoursStatus(h) {
  try {
    const a = await (await fetch("/api/support/availability")).json();
    const now = a.open ? "open now" : `closed now (${a.reason.replace("_", " ")})`;
    $("hours-status").textContent = `${h ? "Saved." : "No office hours: open whenever an agent is online."} The desk is ${now}.`;
  } catch {
    $("hours-status").textContent = "";
  }
}

$("hours-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const weekly = {};
  for (const row of $("hours-days").tBodies[0].rows) {
    if (!row.querySelector(".on").checked) continue;
    const close = row.querySelector(".close").value;
    weekly[row.dataset.day] = [{ open: row.querySelector(".open").value, close: close === "00:00" ? "24:00" : close }];
  }
  const body = {
    timeZone: $("hours-tz").value.trim(),
    weekly,
    holidays: $("hours-holidays").value.split(/[\s,]+/).filter(Boolean),
    autoReply: $("hours-reply").value.trim() || null,
  };
  try {
    fillHours((await desk("PUT", "/office-hours", body)).data);
  } catch (err) {
    $("hours-status").textContent = err.message;
  }
});

$("hours-clear").addEventListener("click", async () => {
  try {
    await desk("DELETE", "/office-hours");
    fillHours(null);
  } catch (err) {
    $("hours-status").textContent = err.message;
  }
});

// ---- the widget's look (admins) ----------------------------------------------------------

async function loadLook() {
  const admin = tokenClaims().role === "admin";
  $("look-admin").hidden = !admin;
  if (!admin) return;
  try {
    fillLook((await (await fetch("/api/widget")).json()).data);
  } catch (e) {
    toast($("toast"), `Widget: ${e.message}`);
  }
}

function fillLook(look) {
  $("look-color").value = look.color.length === 4 ? `#${[...look.color.slice(1)].map((c) => c + c).join("")}` : look.color;
  $("look-position").value = look.position;
  $("look-team").value = look.teamName ?? "";
  $("look-greeting").value = look.greeting ?? "";
  $("look-avatar").value = look.avatarUrl ?? "";
}

$("look-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = {
    color: $("look-color").value,
    position: $("look-position").value,
    teamName: $("look-team").value.trim() || null,
    greeting: $("look-greeting").value.trim() || null,
    avatarUrl: $("look-avatar").value.trim() || null,
  };
  try {
    fillLook((await desk("PUT", "/widget", body)).data);
    $("look-status").textContent = "Saved: every widget shows it from its next load.";
  } catch (err) {
    $("look-status").textContent = err.message;
  }
});

$("look-reset").addEventListener("click", async () => {
  try {
    await desk("DELETE", "/widget");
    await loadLook();
    $("look-status").textContent = "Back to the default look.";
  } catch (err) {
    $("look-status").textContent = err.message;
  }
});
