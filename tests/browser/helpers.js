// Shared by the browser tests: the server under test, tokens, and Chromium.
import { createHmac } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const URL = process.env.SB_URL;
const SECRET = process.env.SB_SECRET;
const SHOTS = process.env.SB_SCREENSHOTS;

export function token(sub, role = "customer", name = sub, ttlSeconds = 3600, claims = {}) {
  const enc = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const body = `${enc({ alg: "HS256", typ: "JWT" })}.${enc({ sub, role, name, exp: Math.floor(Date.now() / 1000) + ttlSeconds, ...claims })}`;
  return `${body}.${createHmac("sha256", SECRET).update(body).digest("base64url")}`;
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.SB_CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
    ],
  });
}

/** A page that fails the test on any script error or dialog (an XSS would show as one). */
export async function page(browser, errors) {
  const context = await browser.newContext();
  const p = await context.newPage();
  p.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  p.on("dialog", async (d) => {
    errors.push(`dialog: ${d.message()}`);
    await d.dismiss();
  });
  return p;
}

export async function screenshot(p, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}
