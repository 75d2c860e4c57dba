// Demo client for the native /ws protocol (seeds 000/002). All user text goes
// through textContent, never innerHTML.

const $ = (id) => document.getElementById(id);
const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
const statusEl = $("status");
// Each mode has its own connection; the header shows the visible one's state.
const modes = { customer: { text: "disconnected", online: false }, staff: { text: "signed out", online: false } };
let visible = "customer";

function setStatus(mode, text, online) {
  modes[mode] = { text, online };
  if (mode === visible) renderStatus();
}

function renderStatus() {
  statusEl.textContent = modes[visible].text;
  statusEl.classList.toggle("online", modes[visible].online);
}

function newId() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

function addLine(log, text, cls, meta) {
  const li = document.createElement("li");
  if (cls) li.className = cls;
  li.textContent = text;
  if (meta) {
    const small = document.createElement("small");
    small.textContent = meta;
    li.appendChild(small);
  }
  log.appendChild(li);
  log.scrollTop = log.scrollHeight;
  return li;
}

const time = (iso) => new Date(iso).toLocaleTimeString();

// A WebSocket that re-opens itself with backoff and calls onOpen each time.
function connect(mode, { onOpen, onFrame }) {
  let ws;
  let attempt = 0;
  const open = () => {
    ws = new WebSocket(wsUrl);
    ws.onopen = () => { attempt = 0; onOpen(ws); };
    ws.onmessage = (e) => {
      let frame;
      try { frame = JSON.parse(e.data); } catch { return; }
      onFrame(frame, ws);
    };
    ws.onclose = () => {
      setStatus(mode, "reconnecting…", false);
      attempt += 1;
      setTimeout(open, Math.min(10000, 500 * 2 ** attempt));
    };
  };
  open();
  return { send: (obj) => ws && ws.readyState === WebSocket.OPEN && (ws.send(JSON.stringify(obj)), true) };
}

// ---------------------------------------------------------------- customer
function startCustomer() {
  const log = $("customer-log");
  const sessionId = localStorage.getItem("sb.sessionId") || `sess-${newId()}`;
  localStorage.setItem("sb.sessionId", sessionId);
  $("session-id").textContent = sessionId;
  $("customer-token").value = localStorage.getItem("sb.customerToken") || "";
  let lastSeq = 0;
  const pending = new Map(); // clientId -> <li>

  const show = (m) => {
    if (m.seq <= lastSeq) return;
    lastSeq = m.seq;
    const mine = m.senderType === "customer" || m.senderType === "guest";
    addLine(log, m.message, mine ? "mine" : "", `${mine ? "You" : m.senderName} · ${time(m.timestamp)}`);
  };

  const conn = connect("customer", {
    onOpen: (ws) => {
      const token = $("customer-token").value.trim() || null;
      ws.send(JSON.stringify({ type: "register", sessionId, token }));
    },
    onFrame: (f) => {
      switch (f.type) {
        case "registered":
          setStatus("customer", "connected", true);
          conn.send({ type: "history", sessionId, afterSeq: lastSeq, limit: 200 });
          break;
        case "history":
          f.messages.forEach(show);
          if (f.hasMore) conn.send({ type: "history", sessionId, afterSeq: lastSeq, limit: 200 });
          break;
        case "message_ack": {
          const li = pending.get(f.clientId);
          if (li) { li.remove(); pending.delete(f.clientId); }
          conn.send({ type: "history", sessionId, afterSeq: lastSeq, limit: 200 });
          break;
        }
        case "staff_reply":
        case "customer_message":
          if (f.seq === lastSeq + 1) {
            show({ ...f, senderType: f.type === "staff_reply" ? "agent" : "customer", senderName: f.staffName || "Support" });
          } else {
            conn.send({ type: "history", sessionId, afterSeq: lastSeq, limit: 200 });
          }
          break;
        case "error":
          addLine(log, `Error: ${f.message}${f.detail ? ` (${f.detail})` : ""}`, "system");
          break;
      }
    },
  });

  $("customer-token").addEventListener("change", (e) => localStorage.setItem("sb.customerToken", e.target.value.trim()));
  $("customer-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("customer-text");
    const message = input.value.trim();
    if (!message) return;
    const clientId = newId();
    if (conn.send({ type: "customer_message", message, clientId })) {
      pending.set(clientId, addLine(log, message, "mine", "sending…"));
      input.value = "";
    }
  });
}

// ---------------------------------------------------------------- staff
function startStaff(token) {
  const inbox = new Map(); // sessionId -> {name, last, unread, li}
  let selected = null;
  const log = $("staff-log");
  const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  const userId = (claims.user && claims.user.id) || claims.sub;

  const renderEntry = (id) => {
    const c = inbox.get(id);
    c.li.replaceChildren();
    const b = document.createElement("b");
    b.textContent = c.name;
    const span = document.createElement("span");
    span.textContent = c.last;
    c.li.append(b, span);
    c.li.classList.toggle("unread", c.unread > 0);
    c.li.classList.toggle("selected", id === selected);
  };

  const entry = (id, name) => {
    if (!inbox.has(id)) {
      const li = document.createElement("li");
      li.addEventListener("click", () => select(id));
      $("inbox").prepend(li);
      inbox.set(id, { name: name || "Customer", last: "", unread: 0, li });
    }
    return inbox.get(id);
  };

  const select = async (id) => {
    selected = id;
    inbox.get(id).unread = 0;
    inbox.forEach((_, k) => renderEntry(k));
    $("staff-text").disabled = false;
    $("staff-form").querySelector("button").disabled = false;
    log.replaceChildren();
    const r = await fetch(`/api/chat/sessions/${encodeURIComponent(id)}/messages?limit=200`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const body = await r.json();
    if (!body.success) return addLine(log, `Error: ${body.message}`, "system");
    body.messages.forEach((m) => addLine(log, m.message, m.senderType === "customer" || m.senderType === "guest" ? "" : "mine", `${m.senderName} · ${time(m.timestamp)}`));
  };

  const conn = connect("staff", {
    onOpen: (ws) => ws.send(JSON.stringify({ type: "register_admin", userId, token })),
    onFrame: (f) => {
      switch (f.type) {
        case "admin_registered":
          setStatus("staff", `signed in as ${f.userId}`, true);
          break;
        case "customer_message": {
          const c = entry(f.sessionId, f.customerName);
          c.last = f.message;
          if (f.sessionId === selected) addLine(log, f.message, "", `${f.customerName} · ${time(f.timestamp)}`);
          else c.unread += 1;
          renderEntry(f.sessionId);
          if (document.hidden) document.title = "● New message · Switchboard";
          break;
        }
        case "staff_reply": {
          const c = entry(f.sessionId);
          c.last = `${f.staffName}: ${f.message}`;
          renderEntry(f.sessionId);
          if (f.sessionId === selected) addLine(log, f.message, "mine", `${f.staffName} · ${time(f.timestamp)}`);
          break;
        }
        case "message_ack":
          if (f.sessionId === selected) select(selected);
          break;
        case "error":
          addLine(log, `Error: ${f.message}${f.detail ? ` (${f.detail})` : ""}`, "system");
          break;
      }
    },
  });

  document.addEventListener("visibilitychange", () => { if (!document.hidden) document.title = "Switchboard demo"; });
  $("staff-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("staff-text");
    const content = input.value.trim();
    if (!content || !selected) return;
    if (conn.send({ type: "staff_message", sessionId: selected, content, clientId: newId() })) input.value = "";
  });
}

// ---------------------------------------------------------------- tabs
const started = { customer: false, staff: false };

function show(which) {
  visible = which;
  $("customer").hidden = which !== "customer";
  $("staff").hidden = which !== "staff";
  $("as-customer").classList.toggle("active", which === "customer");
  $("as-staff").classList.toggle("active", which === "staff");
  renderStatus();
  if (which === "customer" && !started.customer) {
    started.customer = true;
    startCustomer();
  }
}

$("as-customer").addEventListener("click", () => show("customer"));
$("as-staff").addEventListener("click", () => show("staff"));
$("staff-login").addEventListener("submit", (e) => {
  e.preventDefault();
  const token = $("staff-token").value.trim();
  if (!token || started.staff) return;
  try {
    startStaff(token);
    started.staff = true;
    $("staff-login").hidden = true;
  } catch {
    setStatus("staff", "invalid token", false);
  }
});
show(location.hash === "#staff" ? "staff" : "customer");
