// Shared by the bundled pages: the /ws connection with reconnects, safe DOM building
// (text is only ever set with textContent), and attachments.

/** Build an element; children are nodes or strings (strings become text, never HTML). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return node;
}

export const time = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
};

/**
 * A native-protocol WebSocket that reconnects by itself (backoff up to 5 s) and shows
 * its state in `badge` (`data-state`: connecting, online, reconnecting).
 * `onOpen(send)` runs on every (re)connect: register and resume there.
 */
export function connect({ badge, onOpen, onFrame }) {
  let ws = null;
  let delay = 250;
  let closedByUs = false;
  const show = (state, text) => {
    if (!badge) return;
    badge.dataset.state = state;
    badge.textContent = text;
  };
  const send = (frame) => {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  };
  const open = () => {
    show(delay === 250 ? "connecting" : "reconnecting", delay === 250 ? "connecting…" : "reconnecting…");
    const proto = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(`${proto}://${location.host}/ws`);
    ws.onopen = () => {
      delay = 250;
      show("online", "connected");
      onOpen(send);
    };
    ws.onmessage = (e) => {
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      onFrame(frame, send);
    };
    ws.onclose = () => {
      if (closedByUs) return;
      show("reconnecting", "reconnecting…");
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 5000);
    };
  };
  open();
  return {
    send,
    close() {
      closedByUs = true;
      ws?.close();
    },
  };
}

/** Fetch as the caller (`{token}` or `{guestId}`: attachments need it) and hand back
 * an object URL. */
export async function blobUrl(url, auth = {}) {
  const headers = auth.token ? { authorization: `Bearer ${auth.token}` } : {};
  if (!auth.token && auth.guestId) url += `${url.includes("?") ? "&" : "?"}guestId=${encodeURIComponent(auth.guestId)}`;
  const res = await fetch(url, { headers });
  if (!res.ok) throw new Error(`download failed (${res.status})`);
  return URL.createObjectURL(await res.blob());
}

/** Attachments of a message: images previewed, other files as downloads. */
export function attachmentList(attachments, auth) {
  if (!attachments?.length) return null;
  return el(
    "ul",
    { class: "files" },
    attachments.map((a) => {
      const name = a.fileName ?? a.file_name ?? "file";
      const type = a.fileType ?? a.file_type ?? "";
      const url = a.fileUrl ?? a.file_url;
      if (type.startsWith("image/")) {
        const img = el("img", { alt: name, class: "preview" });
        blobUrl(url, auth).then((u) => (img.src = u)).catch(() => img.replaceWith(el("span", {}, name)));
        return el("li", {}, img);
      }
      const link = el("a", { href: "#", class: "file" }, name);
      link.addEventListener("click", async (e) => {
        e.preventDefault();
        const u = await blobUrl(url, auth);
        el("a", { href: u, download: name }).click();
      });
      return el("li", {}, link);
    }),
  );
}

export function toast(node, text) {
  node.textContent = text;
  node.hidden = false;
  clearTimeout(node._t);
  node._t = setTimeout(() => (node.hidden = true), 4000);
}

/** Read ticks on our own messages in `log`: ✓ delivered, ✓✓ read (seq ≤ `readUpTo`). */
export function renderTicks(log, readUpTo) {
  for (const li of log.querySelectorAll("li.out")) {
    const read = Number(li.dataset.seq) <= readUpTo;
    li.classList.toggle("read", read);
    const tick = li.querySelector(".tick");
    if (tick) {
      tick.textContent = read ? "✓✓" : "✓";
      tick.title = read ? "read" : "delivered";
    }
  }
}

/** A token handed over in the URL fragment (`#token=…`, never sent to the server) is
 * kept for this tab under `key` and taken out of the address bar. */
export function tokenFromLink(key) {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (token) {
    sessionStorage.setItem(key, token);
    history.replaceState(null, "", location.pathname);
  }
  return sessionStorage.getItem(key);
}

/** A message as `/ws` sends it (a history entry, or a `customer_message`,
 * `staff_reply` or `system_message` frame), in one shape for the pages. */
export function messageOf(f) {
  const kind = { system_message: "system", staff_reply: "agent", customer_message: "customer" };
  return {
    id: f.id,
    seq: f.seq,
    sessionId: f.sessionId,
    senderId: f.senderId ?? f.staffId,
    senderType: f.senderType ?? kind[f.type] ?? "customer",
    senderName: f.senderName ?? f.customerName ?? f.staffName ?? "",
    text: f.message ?? "",
    timestamp: f.timestamp,
    attachments: f.attachments ?? [],
    // A staff note (staff only ever get these).
    private: f.private ?? f.type === "staff_note",
  };
}
