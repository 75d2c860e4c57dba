// Shared by the Socket.IO tests: the server under test (started by tests/api/socketio.rs,
// which passes its address and JWT secret), tokens, REST, and event waiting.
import { createHmac, randomUUID } from "node:crypto";
import { io } from "socket.io-client";
import WebSocket from "ws";

export const URL = process.env.SB_URL;
export const SECRET = process.env.SB_SECRET;
if (!URL || !SECRET) {
  throw new Error("SB_URL and SB_SECRET must be set (run through `cargo test --test api socketio`)");
}

/** The three ways socket.io-client can connect; every seed's script runs over each. */
export const MODES = [
  { name: "websocket only", opts: { transports: ["websocket"] }, final: "websocket" },
  { name: "polling only", opts: { transports: ["polling"], upgrade: false }, final: "polling" },
  { name: "polling then upgrade", opts: {}, final: "websocket" },
];

const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** An HS256 JWT in the standard claim shape, as the host application would issue it;
 * `extra` adds or overrides claims (`nbf`, say). */
export function token(sub, role = "customer", name = `${sub} name`, ttlSeconds = 3600, extra = {}) {
  const body = `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url({
    sub,
    role,
    name,
    exp: Math.floor(Date.now() / 1000) + ttlSeconds,
    ...extra,
  })}`;
  return `${body}.${createHmac("sha256", SECRET).update(body).digest("base64url")}`;
}

export const uid = (prefix = "u") => `${prefix}-${randomUUID().slice(0, 8)}`;

/** A REST call to the server under test (or, in the cluster tests, to `base`). */
export async function api(method, path, body, bearer, base = URL) {
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const res = await fetch(base + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, text };
}

const open = new Set();

/** Connect (to the server under test, or to `base`) and wait for `connect`; rejects
 * with the CONNECT_ERROR. */
export function connect(nsp = "/", opts = {}, base = URL) {
  const socket = io(base + nsp, { reconnection: false, forceNew: true, ...opts });
  open.add(socket);
  collect(socket);
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (e) => reject(e));
  });
}

/** Close every socket this test file opened. */
export function closeAll() {
  for (const s of open) s.disconnect();
  open.clear();
}

/** Every event a socket receives, kept in order, so a test can wait for one that
 * arrived before it started waiting. */
function collect(socket) {
  socket.received = [];
  socket.waiters = [];
  socket.onAny((event, ...args) => {
    socket.received.push({ event, args });
    for (const w of [...socket.waiters]) w();
  });
}

/** The first not-yet-taken `event` (matching `pred`) on `socket`, within `ms`. */
export function next(socket, event, pred = () => true, ms = 5000) {
  return new Promise((resolve, reject) => {
    const look = () => {
      const i = socket.received.findIndex((r) => r.event === event && pred(r.args[0]));
      if (i < 0) return false;
      const [r] = socket.received.splice(i, 1);
      socket.waiters = socket.waiters.filter((w) => w !== look);
      clearTimeout(timer);
      resolve(r.args[0]);
      return true;
    };
    const timer = setTimeout(() => {
      socket.waiters = socket.waiters.filter((w) => w !== look);
      const seen = socket.received
        .map((r) => (r.event === event ? `${r.event} ${JSON.stringify(r.args)}` : r.event))
        .join(", ");
      reject(new Error(`no ${event} within ${ms} ms (pending: ${seen || "none"})`));
    }, ms);
    if (!look()) socket.waiters.push(look);
  });
}

/** Nothing named `event` (matching `pred`) arrives within `ms`. */
export async function none(socket, event, pred = () => true, ms = 300) {
  await new Promise((r) => setTimeout(r, ms));
  const hit = socket.received.find((r) => r.event === event && pred(r.args[0]));
  if (hit) throw new Error(`unexpected ${event}: ${JSON.stringify(hit.args[0])}`);
}

/** Emit with an ack and wait for it. */
export function request(socket, event, data, ms = 5000) {
  return socket.timeout(ms).emitWithAck(event, data);
}

/** Wait until the engine runs on `name` (the upgrade finished). */
export async function transport(socket, name, ms = 5000) {
  const end = Date.now() + ms;
  while (socket.io.engine.transport.name !== name) {
    if (Date.now() > end) throw new Error(`still on ${socket.io.engine.transport.name}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A native `/ws` client (the raw JSON protocol), for the cross-surface tests. */
export function nativeWs() {
  const ws = new WebSocket(URL.replace("http", "ws") + "/ws");
  const frames = [];
  const waiters = [];
  ws.on("message", (data) => {
    frames.push(JSON.parse(data.toString()));
    for (const w of [...waiters]) w();
  });
  const client = {
    ws,
    send: (frame) => ws.send(JSON.stringify(frame)),
    next(type, pred = () => true, ms = 5000) {
      return new Promise((resolve, reject) => {
        const look = () => {
          const i = frames.findIndex((f) => f.type === type && pred(f));
          if (i < 0) return false;
          const [f] = frames.splice(i, 1);
          waiters.splice(waiters.indexOf(look) >>> 0, 1);
          clearTimeout(timer);
          resolve(f);
          return true;
        };
        const timer = setTimeout(
          () => reject(new Error(`no ${type} within ${ms} ms (got: ${frames.map((f) => f.type)})`)),
          ms,
        );
        if (!look()) waiters.push(look);
      });
    },
    close: () => ws.close(),
  };
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(client));
    ws.once("error", reject);
  });
}
