// Accessibility, measured: axe-core (the rules behind Lighthouse and most audits) run
// in Chromium on the widget, the console and the live pages, each in the states people
// use them in (a conversation open, the queue, a running stream). No serious or
// critical violation may be found; lesser ones are printed.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { URL, launch, token } from "./helpers.js";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** The violations axe finds on the page as it is now; fails on serious or critical ones. */
async function audit(p, what) {
  // The pages' CSP admits only their own scripts: this context bypasses it for axe.
  await p.addScriptTag({ content: AXE });
  const { violations } = await p.evaluate(() => globalThis.axe.run({ resultTypes: ["violations"] }));
  const line = (v) => `${what}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`;
  for (const v of violations.filter((v) => !["serious", "critical"].includes(v.impact))) console.log(line(v));
  const bad = violations.filter((v) => ["serious", "critical"].includes(v.impact)).map(line);
  assert.deepEqual(bad, [], `${what}: serious or critical accessibility violations`);
}

describe("accessibility", () => {
  let browser;
  let context;
  const errors = [];
  before(async () => {
    browser = await launch();
    context = await browser.newContext({ bypassCSP: true });
  });
  after(async () => browser?.close());

  async function page() {
    const p = await context.newPage();
    p.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
    return p;
  }

  it("the widget, closed, open, and with a conversation", async () => {
    const guest = await page();
    await guest.goto(`${URL}/`);
    await audit(guest, "widget closed");
    await guest.click("#bubble");
    await guest.fill("#text", "Do you ship to Oslo?");
    await guest.press("#text", "Enter");
    await guest.locator("#log li.out:not(.pending)").waitFor();
    await guest.locator("#away:not([hidden])").waitFor();
    await audit(guest, "widget with a message, nobody online");

    // The keyboard stays inside the open widget, both ways round; Esc leaves it for the bubble.
    const inside = () => guest.evaluate(() => document.getElementById("widget").contains(document.activeElement));
    for (const key of ["Tab", "Shift+Tab"]) {
      await guest.focus("#text");
      for (let i = 0; i < 14; i++) {
        await guest.keyboard.press(key);
        assert.ok(await inside(), `${key} ×${i + 1} left the widget`);
      }
    }
    await guest.keyboard.press("Escape");
    assert.equal(await guest.evaluate(() => document.activeElement.id), "bubble");
    assert.deepEqual(errors, []);
  });

  it("the console: sign-in, a conversation, the queue and the admin panels", async () => {
    const signin = await page();
    await signin.goto(`${URL}/admin`);
    await audit(signin, "console sign-in");

    const ann = await page();
    await ann.goto(`${URL}/admin#token=${token("ann", "admin", "Ann")}`);
    await ann.locator("#conn[data-state=online]").waitFor();
    await ann.locator("#inbox .item", { hasText: "Guest" }).locator("button").click();
    await ann.locator("#customer-facts dd").first().waitFor();
    for (const panel of ["#canned-admin", "#hours-admin", "#look-admin"]) await ann.click(`${panel} summary`);
    await audit(ann, "console with a conversation");
    await ann.click("#queue-tab");
    await ann.locator("#agents tbody tr").first().waitFor();
    await audit(ann, "console queue");
    assert.deepEqual(errors, []);
  });

  it("the live page for viewers and its host", async () => {
    const host = await page();
    await host.goto(`${URL}/live#token=${token("host", "admin", "Host")}`);
    await host.locator("#host:not([hidden])").waitFor();
    await host.fill("#stream-title", "Spring launch");
    await host.click("#start");
    await host.locator("#stop:not([disabled])").waitFor();
    await audit(host, "live host");
    const viewer = await page();
    await viewer.goto(`${URL}/live`);
    await viewer.locator("#title", { hasText: "Spring launch" }).waitFor();
    await audit(viewer, "live viewer");
    assert.deepEqual(errors, []);
  });
});
