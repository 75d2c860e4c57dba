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
    // A timeout: the viewer is told until when, and the chat box closes.
    await viewer.fill("#chat-text", "spam");
    await viewer.press("#chat-text", "Enter");
    await host.locator("#chat .line", { hasText: "spam" }).locator("button.mod", { hasText: "timeout" }).click();
    await viewer.locator("#restricted:not([hidden])", { hasText: "You are timed out until" }).waitFor();
    assert.equal(await viewer.locator("#chat-text").isDisabled(), true);
    await host.locator("#bans li", { hasText: "Vic" }).locator("button", { hasText: "lift" }).click();
    await viewer.locator("#restricted").waitFor({ state: "hidden" });
    assert.equal(await viewer.locator("#chat-text").isDisabled(), false);

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

  it("a moderator the host names acts; a ban holds in a new tab until lifted; blocked terms never show", async () => {
    const host = await page(browser, errors);
    await host.goto(`${URL}/live#token=${token("hana", "admin", "Hana")}`);
    await host.locator("#host").waitFor();
    await host.locator("#conn[data-state=online]").waitFor();
    await host.fill("#stream-title", "Moderated launch");
    await host.click("#start");
    await host.locator("#stop:not([disabled])").waitFor();
    const say = async (p, name, text) => {
      await p.fill("#chat-name", name);
      await p.fill("#chat-text", text);
      await p.press("#chat-text", "Enter");
    };
    const viewerPage = async () => {
      const p = await page(browser, errors);
      await p.goto(`${URL}/live`);
      await p.locator("#conn[data-state=online]").waitFor();
      return p;
    };
    const mod = await viewerPage();
    const troll = await viewerPage();
    const other = await viewerPage();

    // The host makes a viewer a moderator from one of their lines.
    await say(mod, "Mia", "hi all");
    await host.locator("#chat .line", { hasText: "hi all" }).locator("button.mod", { hasText: "mod" }).click();
    await mod.locator("#moderator-note:not([hidden])").waitFor();
    await host.locator("#moderators li", { hasText: "Mia" }).waitFor();
    // A plain viewer has no tools; the moderator has, and times a troll out.
    await say(troll, "Tom", "buy my stuff");
    const trollLine = mod.locator("#chat .line", { hasText: "buy my stuff" });
    await trollLine.waitFor();
    assert.equal(await other.locator("#chat .line button.mod").count(), 0);
    await trollLine.locator("button.mod", { hasText: "timeout" }).click();
    await troll.locator("#restricted:not([hidden])", { hasText: "You are timed out until" }).waitFor();
    await host.locator("#bans li", { hasText: "Tom" }).waitFor();
    await host.locator("#modlog li", { hasText: "Mia: timeout" }).waitFor();

    // The host bans them outright; a new tab of theirs is banned on arrival.
    await host.locator("#chat .line", { hasText: "buy my stuff" }).locator("button.mod", { hasText: "ban" }).click();
    await troll.locator("#restricted", { hasText: "You are banned from this chat" }).waitFor();
    const tab = await troll.context().newPage();
    await tab.goto(`${URL}/live`);
    await tab.locator("#restricted:not([hidden])", { hasText: "You are banned from this chat" }).waitFor();
    assert.equal(await tab.locator("#chat-text").isDisabled(), true);
    await host.locator("#bans li", { hasText: "Tom" }).locator("button", { hasText: "lift" }).click();
    await tab.locator("#restricted").waitFor({ state: "hidden" });
    await say(tab, "Tom", "sorry");
    await other.locator("#chat .line", { hasText: "sorry" }).waitFor();

    // Blocked terms, in any spelling: refused for the writer, never shown to others.
    await host.fill("#terms", "scam*\nbuy now");
    await host.click("#terms-form button[type=submit]");
    await host.locator("#modlog li", { hasText: "blocked_terms" }).waitFor();
    await say(other, "Olu", "ѕсаmmers everywhere");
    await other.locator("#error", { hasText: "blocked term" }).waitFor();
    await say(other, "Olu", "marker line");
    await host.locator("#chat .line", { hasText: "marker line" }).waitFor();
    assert.equal(await host.locator("#chat .line", { hasText: "everywhere" }).count(), 0);
    await screenshot(host, "live-moderation");

    await host.click("#stop");
    await other.locator("#offair").waitFor();
    assert.deepEqual(errors, []);
  });
});
