// The desk's settings as customers meet them: office hours (the widget's away notice
// and its message-with-an-email, answered automatically), who the customer is beside
// the conversation in the console (page, browser, local time, the token's attributes,
// earlier conversations), and the widget's look set in the console.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { URL, launch, page, screenshot, token } from "./helpers.js";

describe("the desk's settings in the widget", () => {
  let browser;
  const errors = [];
  before(async () => (browser = await launch()));
  after(async () => browser?.close());

  it("outside office hours the widget takes a message and an email; the console shows who the customer is", async () => {
    const ann = await page(browser, errors);
    await ann.goto(`${URL}/admin#token=${token("ann", "admin", "Ann")}`);
    // Ann sets hours on no day at all (closed), with an automatic reply.
    await ann.click("#hours-admin summary");
    await ann.fill("#hours-tz", "Europe/Oslo");
    for (const box of await ann.locator("#hours-days input.on").all()) await box.uncheck();
    await ann.fill("#hours-holidays", "2026-12-24, 2026-12-25");
    await ann.fill("#hours-reply", "Thanks! We answer weekdays from 9:00 and will email you.");
    await ann.click("#hours-form button[type=submit]");
    await ann.locator("#hours-status", { hasText: "closed now (outside hours)" }).waitFor();
    await ann.fill("#hours-tz", "Mars/Base");
    await ann.click("#hours-form button[type=submit]");
    await ann.locator("#hours-status", { hasText: "timeZone must be an IANA time zone" }).waitFor();

    // A signed-in customer whose token carries the shop's attributes, with an earlier conversation.
    const carl = token("carl-9", "customer", "Carl", 3600, { attributes: { orderNumber: "A-1001", plan: "pro" } });
    const earlier = await fetch(`${URL}/api/support/conversation?type=onboarding`, { headers: { authorization: `Bearer ${carl}` } });
    assert.equal(earlier.status, 200);
    const earlierId = (await earlier.json()).id;
    const customer = await page(browser, errors);
    await customer.goto(`${URL}/`);
    await customer.click("#bubble");
    await customer.click(".signin-token summary");
    await customer.fill("#token", carl);
    await customer.press("#token", "Enter");
    const away = customer.locator("#away:not([hidden])");
    await away.waitFor();
    assert.match(await away.innerText(), /outside our office hours/);
    await customer.fill("#away-email", "carl@example.com");
    await customer.fill("#text", "Can I change the size of order A-1001?");
    await customer.press("#text", "Enter");
    await customer.locator("#log li.out:not(.pending) .text", { hasText: "size of order" }).waitFor();
    await customer.locator("#log li.system", { hasText: "will email you" }).waitFor();
    await customer.locator("#away-done", { hasText: "reply to carl@example.com" }).waitFor();
    await screenshot(customer, "widget-office-hours");

    // Ann sees who wrote, from where, and their earlier conversation a click away. (An
    // agent's page from before may have been given it: it is waiting or active.)
    const general = await (await fetch(`${URL}/api/support/conversation?type=general`, { headers: { authorization: `Bearer ${carl}` } })).json();
    await ann.click(`.filters button[data-status=${general.status}]`);
    await ann.locator("#inbox .item", { hasText: "Carl" }).locator("button").click();
    const facts = ann.locator("#customer-facts");
    await facts.locator("dd", { hasText: "carl@example.com" }).waitFor();
    for (const want of ["signed in as carl-9", "Corner Shop", "A-1001", "pro"]) await facts.locator("dd", { hasText: want }).waitFor();
    assert.ok((await facts.locator("dt", { hasText: "Browser" }).count()) === 1, "the browser is shown");
    assert.ok((await facts.locator("dt", { hasText: "Local time" }).count()) === 1, "the local time is shown");
    const previous = ann.locator(`#previous li[data-id="${earlierId}"] button`);
    await previous.waitFor();
    await screenshot(ann, "desk-customer");
    await previous.click();
    await ann.locator(`#previous li[data-id="${general.id}"]`).waitFor();
    assert.equal(await ann.locator(`#previous li[data-id="${earlierId}"]`).count(), 0, "now the open one is the earlier one");

    // Hours cleared: the widget offers the live chat again.
    await ann.click("#hours-clear");
    await ann.locator("#hours-status", { hasText: "No office hours" }).waitFor();
    await customer.reload();
    await customer.click("#bubble");
    await customer.locator("#log li .text", { hasText: "size of order" }).waitFor();
    assert.ok(await customer.locator("#away").isHidden());
    assert.deepEqual(errors, []);
  });

  it("an admin styles the widget in the console, and the widget shows it", async () => {
    const ann = await page(browser, errors);
    await ann.goto(`${URL}/admin#token=${token("ann", "admin", "Ann")}`);
    await ann.click("#look-admin summary");
    await ann.fill("#look-avatar", "http://cdn.example/team.png");
    await ann.click("#look-form button[type=submit]");
    await ann.locator("#look-status", { hasText: "avatarUrl must be an https:// URL" }).waitFor();
    await ann.fill("#look-color", "#0f766e");
    await ann.selectOption("#look-position", "left");
    await ann.fill("#look-team", "Corner Shop team");
    await ann.fill("#look-greeting", "Hi! Ask us anything about your order.");
    await ann.fill("#look-avatar", "/static/favicon.svg");
    await ann.click("#look-form button[type=submit]");
    await ann.locator("#look-status", { hasText: "Saved" }).waitFor();

    const visitor = await page(browser, errors);
    await visitor.goto(`${URL}/`);
    await visitor.locator("#team-name", { hasText: "Corner Shop team" }).waitFor({ state: "attached" });
    assert.equal(await visitor.locator("#bubble").evaluate((b) => getComputedStyle(b).backgroundColor), "rgb(15, 118, 110)");
    assert.ok(await visitor.locator("body.widget-left").count(), "the widget sits bottom left");
    const box = await visitor.locator("#bubble").boundingBox();
    assert.ok(box.x < 100, `the bubble is on the left (x = ${box.x})`);
    await visitor.click("#bubble");
    await visitor.locator("#greeting:not([hidden])", { hasText: "Ask us anything about your order" }).waitFor();
    assert.match(await visitor.locator("#team-avatar").getAttribute("src"), /favicon\.svg$/);
    await screenshot(visitor, "widget-look");

    // Back to the default look for every widget.
    await ann.click("#look-reset");
    await ann.locator("#look-status", { hasText: "default look" }).waitFor();
    await visitor.reload();
    await visitor.locator("#team-name", { hasText: "Support" }).waitFor({ state: "attached" });
    assert.equal(await visitor.locator("body.widget-left").count(), 0);
    assert.deepEqual(errors, []);
  });
});
