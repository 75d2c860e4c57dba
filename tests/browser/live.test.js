// A host streams its (fake) camera on /live; a viewer receives the video over WebRTC
// signalled through the server, and they chat, like, pin and moderate.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { URL, launch, page, screenshot, token } from "./helpers.js";

const XSS = "<img src=x onerror=alert(1)>";

describe("live stream in the browser", () => {
  let browser;
  const errors = [];
  before(async () => (browser = await launch()));
  after(async () => browser?.close());

  it("host starts with the camera; a viewer gets the video, chat, likes, pins and moderation", async () => {
    const viewer = await page(browser, errors);
    await viewer.goto(`${URL}/live`);
    await viewer.locator("#conn[data-state=online]").waitFor();
    await viewer.locator("#offair").waitFor();

    const host = await page(browser, errors);
    await host.goto(`${URL}/live#token=${token("hana", "admin", "Hana")}`);
    await host.locator("#host").waitFor();
    await host.locator("#conn[data-state=online]").waitFor();
    await host.fill("#stream-title", "Spring launch");
    await host.click("#start");
    await host.locator("#stop:not([disabled])").waitFor();

    // The viewer receives a video track, and it plays.
    await viewer.locator("#title", { hasText: "Spring launch" }).waitFor();
    await viewer.waitForFunction(() => {
      const v = document.querySelector("#video");
      return v.dataset.live === "true" && v.srcObject?.getVideoTracks().length > 0 && v.videoWidth > 0;
    }, null, { timeout: 20000 });
    await viewer.locator("#viewers", { hasText: /^[1-9]/ }).waitFor();

    // Chat both ways; hostile text stays text.
    await viewer.fill("#chat-name", "Vic");
    await viewer.fill("#chat-text", `love it ${XSS}`);
    await viewer.press("#chat-text", "Enter");
    const line = host.locator("#chat .line", { hasText: "love it" });
    await line.waitFor();
    assert.equal(await line.locator(".text").textContent(), `love it ${XSS}`);
    await host.fill("#chat-text", "thanks!");
    await host.press("#chat-text", "Enter");
    await viewer.locator("#chat .line.host-line", { hasText: "thanks!" }).waitFor();

    // Likes.
    await viewer.click("#like");
    await host.locator("#likes", { hasText: "1" }).waitFor();
    await viewer.locator("#like[aria-pressed=true]").waitFor();

    // Reactions: the viewer taps, and a heart floats up on the host's video.
    await viewer.click('#reactions button[aria-label="React ❤️"]');
    await viewer.click('#reactions button[aria-label="React ❤️"]');
    await host.locator('#floating .bubble[data-emoji="❤️"]').first().waitFor({ state: "attached" });

    // The host pins the viewer's line above the chat; the viewer sees it, then not.
    await line.locator("button", { hasText: "pin" }).click();
    await viewer.locator("#pinned-message:not([hidden]) .text", { hasText: "love it" }).waitFor();
    await host.click("#unpin");
    await viewer.locator("#pinned-message").waitFor({ state: "hidden" });

    // The host sets the chat's limits; the viewer's box follows them.
    await host.fill("#max-chars", "120");
    await host.fill("#per-minute", "30");
    await host.click("#limits-form button[type=submit]");
    await viewer.waitForFunction(() => document.querySelector("#chat-text").maxLength === 120);

    // Pins.
    await host.fill("#pin-name", "Serum 30 ml");
    await host.fill("#pin-price", "29.9");
    await host.press("#pin-price", "Enter");
    await viewer.locator("#pinned .pin", { hasText: "Serum 30 ml" }).waitFor();
    await screenshot(viewer, "live-viewer");
    await screenshot(host, "live-host");

    // Moderation: the host deletes the viewer's line; it goes for everyone.
    await line.locator("button.mod", { hasText: "delete" }).click();
    await viewer.locator("#chat .line", { hasText: "love it" }).waitFor({ state: "detached" });
    // Muting: the viewer's next line is refused, and nobody gets it.
    await viewer.fill("#chat-text", "spam");
    await viewer.press("#chat-text", "Enter");
    await host.locator("#chat .line", { hasText: "spam" }).locator("button.mod", { hasText: "mute" }).click();
    await new Promise((r) => setTimeout(r, 200));
    await viewer.fill("#chat-text", "more spam");
    await viewer.press("#chat-text", "Enter");
    await viewer.locator("#error", { hasText: /mute/i }).waitFor();
    assert.equal(await host.locator("#chat .line", { hasText: "more spam" }).count(), 0);

    // A late viewer gets the recent chat, the pins and the video too.
    const late = await page(browser, errors);
    await late.goto(`${URL}/live`);
    await late.locator("#chat .line", { hasText: "thanks!" }).waitFor();
    await late.locator("#pinned .pin", { hasText: "Serum 30 ml" }).waitFor();
    await late.waitForFunction(() => document.querySelector("#video").videoWidth > 0, null, { timeout: 20000 });

    // Unpinning empties everyone's list.
    await host.locator("#pinned .pin", { hasText: "Serum 30 ml" }).locator("button", { hasText: "unpin" }).click();
    await viewer.locator("#pinned li", { hasText: "Nothing pinned" }).waitFor();

    await host.selectOption("#slow", "30");
    await viewer.locator("#slow-note", { hasText: "30" }).waitFor();

    await host.click("#stop");
    await viewer.locator("#offair").waitFor();
    assert.equal(await viewer.locator("img").count(), 0, "no element made from chat text");
    assert.deepEqual(errors, []);
  });
});
