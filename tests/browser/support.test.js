// A guest on the shop page and an agent in the console hold a whole conversation.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { URL, launch, page, screenshot, token } from "./helpers.js";

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);
const XSS = "<img src=x onerror=alert(1)>";

describe("support in the browser", () => {
  let browser;
  const errors = [];
  before(async () => (browser = await launch()));
  after(async () => browser?.close());

  it("guest writes, agent sees it live, accepts, replies; ticks, files and hostile text", async () => {
    const agent = await page(browser, errors);
    await agent.goto(`${URL}/admin#token=${token("ann", "agent", "Ann")}`);
    await agent.locator("#conn[data-state=online]").waitFor();
    assert.equal(new globalThis.URL(agent.url()).hash, "", "the token leaves the address bar");

    const guest = await page(browser, errors);
    await guest.goto(`${URL}/`);
    await guest.click("#bubble");
    await guest.locator("#conn[data-state=online]").waitFor();
    await guest.fill("#text", `Hello ${XSS}`);
    await guest.press("#text", "Enter");
    await guest.locator("#log li.out:not(.pending) .text", { hasText: "Hello" }).waitFor();

    // The new conversation appears in the agent's Waiting inbox by itself, and the
    // console, not in front, blinks its title.
    const item = agent.locator("#inbox .item", { hasText: "Hello" });
    await item.waitFor();
    await agent.waitForFunction(() => document.title.startsWith("●"), null, { timeout: 5000 });
    await screenshot(agent, "admin-inbox");
    await item.locator("button").click();
    const shown = agent.locator("#log li.in .text", { hasText: "Hello" });
    await shown.waitFor();
    assert.equal(await shown.textContent(), `Hello ${XSS}`, "shown as text");
    assert.equal(await guest.locator("#log li .text", { hasText: XSS }).textContent(), `Hello ${XSS}`);
    assert.equal(await guest.locator("#log img").count(), 0, "no element made from it in the widget");
    assert.equal(await agent.locator("#log img:not(.preview)").count(), 0, "no element made from it");

    await agent.click("#accept");
    await agent.locator("#thread-status", { hasText: "active" }).waitFor();
    // The agent typing shows in the widget.
    await agent.type("#reply-text", "Hi! How can I help?");
    await guest.locator("#typing:not([hidden])").waitFor();
    await agent.press("#reply-text", "Enter");

    await guest.locator("#log li.in .text", { hasText: "How can I help?" }).waitFor();
    // The guest has the widget open: the agent's reply shows as read in the console.
    await agent.locator("#log li.out.read .tick", { hasText: "✓✓" }).waitFor();
    // The agent has the conversation open: the guest's message shows as read.
    await guest.locator("#log li.out.read .tick", { hasText: "✓✓" }).first().waitFor();

    // A file goes up with the widget (its progress shown), and the agent sees its preview.
    await guest.evaluate(() => {
      const bar = document.querySelector("#progress");
      window.progressSeen = false;
      new MutationObserver(() => (window.progressSeen ||= !bar.hidden)).observe(bar, { attributes: true });
    });
    await guest.setInputFiles("#file", { name: "dot.png", mimeType: "image/png", buffer: PNG });
    const preview = agent.locator("#log img.preview");
    await preview.waitFor();
    await agent.waitForFunction(() => document.querySelector("#log img.preview")?.src.startsWith("blob:"));
    await guest.waitForFunction(() => document.querySelector("#log img.preview")?.src.startsWith("blob:"));
    assert.equal(await guest.evaluate(() => window.progressSeen), true, "upload progress was shown");
    await screenshot(guest, "widget");
    await screenshot(agent, "admin-conversation");

    // Esc closes the widget; a reply meanwhile lights the notification dot.
    await guest.press("#text", "Escape");
    await guest.locator("#widget").waitFor({ state: "hidden" });
    await agent.fill("#reply-text", "Anything else?");
    await agent.press("#reply-text", "Enter");
    await guest.locator("#dot").waitFor();

    // Reload: the conversation is still there, each message once.
    await guest.reload();
    await guest.click("#bubble");
    await guest.locator("#log li.in .text", { hasText: "How can I help?" }).waitFor();
    assert.equal(await guest.locator("#log li .text", { hasText: "Hello" }).count(), 1);
    assert.deepEqual(errors, []);
  });
});
