// The team desk in the console and the widget: private notes (staff see them, styled
// apart; the customer's widget never shows one), canned responses (an admin adds one in
// the console; an agent inserts it with "/" and its shortcut), labels and the inbox's
// label filter, search with highlighted results, availability and the queue (the
// console's queue view, the widget's place in line), the widget's rating of a
// resolved conversation, shown in the console, transcripts, and snoozing.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { URL, launch, page, screenshot, token } from "./helpers.js";

describe("team desk", () => {
  let browser;
  const errors = [];
  before(async () => (browser = await launch()));
  after(async () => browser?.close());

  it("a note is written in note mode, shown to staff as a note, and never to the customer", async () => {
    const customer = await page(browser, errors);
    await customer.goto(`${URL}/`);
    await customer.click("#bubble");
    await customer.click(".signin-token summary");
    await customer.fill("#token", token("nora-1", "customer", "Nora"));
    await customer.press("#token", "Enter");
    await customer.fill("#text", "where is order 1042?");
    await customer.press("#text", "Enter");
    await customer.locator("#log li.out:not(.pending) .text", { hasText: "order 1042" }).waitFor();

    const ann = await page(browser, errors);
    await ann.goto(`${URL}/admin#token=${token("ann", "admin", "Ann")}`);
    const bo = await page(browser, errors);
    await bo.goto(`${URL}/admin#token=${token("bo", "agent", "Bo")}`);
    for (const p of [ann, bo]) await p.locator("#inbox .item", { hasText: "Nora" }).locator("button").click();

    // Ann writes a note: it shows as a note for her and, live, for Bo.
    await ann.check("#note-mode");
    assert.ok(await ann.locator("#reply.note").isVisible(), "the composer shows note mode");
    await ann.fill("#reply-text", "Carrier lost it; reship free");
    await ann.press("#reply-text", "Enter");
    for (const p of [ann, bo]) {
      await p.locator("#log li.msg.note:not(.pending) .text", { hasText: "reship free" }).waitFor();
      assert.match(await p.locator("#log li.msg.note .from").innerText(), /^Note · /);
    }
    // Then a reply, out of note mode.
    await ann.uncheck("#note-mode");
    await ann.fill("#reply-text", "We are sending a new one today.");
    await ann.press("#reply-text", "Enter");
    await customer.locator("#log li .text", { hasText: "new one today" }).waitFor();
    await bo.locator("#log li.msg:not(.note) .text", { hasText: "new one today" }).waitFor();

    // A note is there after a reload (history), still a note.
    await bo.reload();
    await bo.locator("#inbox .item", { hasText: "Nora" }).locator("button").click();
    await bo.locator("#log li.msg.note .text", { hasText: "reship free" }).waitFor();
    await screenshot(bo, "desk-notes");

    // The customer never sees it, live or after a reload.
    assert.equal(await customer.locator("#log", { hasText: "reship" }).count(), 0);
    await customer.reload();
    await customer.click("#bubble");
    await customer.locator("#log li .text", { hasText: "new one today" }).waitFor();
    assert.equal(await customer.locator("#log", { hasText: "reship" }).count(), 0);
    assert.deepEqual(errors, []);
  });

  it("an admin adds a canned response; an agent inserts it with / and sends it filled in", async () => {
    const customer = await page(browser, errors);
    await customer.goto(`${URL}/`);
    await customer.click("#bubble");
    await customer.click(".signin-token summary");
    await customer.fill("#token", token("omar-1", "customer", "Omar"));
    await customer.press("#token", "Enter");
    await customer.fill("#text", "can I return these shoes?");
    await customer.press("#text", "Enter");
    await customer.locator("#log li.out:not(.pending) .text", { hasText: "shoes" }).waitFor();

    const ann = await page(browser, errors);
    await ann.goto(`${URL}/admin#token=${token("ann", "admin", "Ann")}`);
    await ann.locator("#canned-admin:not([hidden]) summary").click();
    await ann.fill("#canned-shortcut", "returns");
    await ann.fill("#canned-content", "Hi {{customer.name}}, returns are free for 30 days. {{agent.name}}");
    await ann.click("#canned-form button[type=submit]");
    await ann.locator("#canned-list li", { hasText: "/returns" }).waitFor();

    // An agent sees no admin panel, but has the snippet in the composer.
    const bo = await page(browser, errors);
    await bo.goto(`${URL}/admin#token=${token("bo", "agent", "Bo")}`);
    await bo.locator("#conn[data-state=online]").waitFor();
    assert.equal(await bo.locator("#canned-admin").isHidden(), true);
    await bo.locator("#inbox .item", { hasText: "Omar" }).locator("button").click();
    await bo.locator("#log li .text", { hasText: "shoes" }).waitFor();
    await bo.fill("#reply-text", "");
    await bo.type("#reply-text", "/ret");
    await bo.locator("#canned li.active", { hasText: "/returns" }).waitFor();
    await screenshot(bo, "desk-canned");
    await bo.press("#reply-text", "Tab");
    assert.equal(await bo.inputValue("#reply-text"), "Hi Omar, returns are free for 30 days. Bo");
    assert.equal(await bo.locator("#canned").isHidden(), true);
    await bo.press("#reply-text", "Enter");
    await customer.locator("#log li .text", { hasText: "Hi Omar, returns are free for 30 days. Bo" }).waitFor();
    assert.deepEqual(errors, []);
  });

  it("labels are added and removed on a conversation, and the inbox filters by one", async () => {
    const customer = await page(browser, errors);
    await customer.goto(`${URL}/`);
    await customer.click("#bubble");
    await customer.fill("#text", "wholesale prices?");
    await customer.press("#text", "Enter");
    await customer.locator("#log li.out:not(.pending) .text", { hasText: "wholesale" }).waitFor();

    const ann = await page(browser, errors);
    await ann.goto(`${URL}/admin#token=${token("ann", "admin", "Ann")}`);
    const bo = await page(browser, errors);
    await bo.goto(`${URL}/admin#token=${token("bo", "agent", "Bo")}`);
    await ann.locator("#inbox .item", { hasText: "wholesale" }).locator("button").click();
    for (const label of ["B2B", "priority"]) {
      await ann.fill("#label-add", label);
      await ann.press("#label-add", "Enter");
    }
    await ann.locator("#labels .label", { hasText: "b2b" }).waitFor();
    await ann.locator("#labels .label", { hasText: "priority" }).waitFor();
    // Bo's inbox shows them live, and his filter keeps only the labelled one.
    const item = bo.locator("#inbox .item", { hasText: "wholesale" });
    await item.locator(".label", { hasText: "b2b" }).waitFor();
    await bo.locator("#inbox .item", { hasText: "Omar" }).waitFor();
    await bo.fill("#label-filter", "b2b");
    await bo.locator("#inbox .item", { hasText: "Omar" }).waitFor({ state: "detached" });
    await item.waitFor();
    await screenshot(bo, "desk-labels");
    // Removed in Ann's console, it leaves Bo's filtered inbox.
    await ann.click("#labels .label:has-text('b2b') button");
    await ann.locator("#labels .label", { hasText: "b2b" }).waitFor({ state: "detached" });
    await bo.locator("#inbox .empty", { hasText: "b2b" }).waitFor();
    // The customer's widget shows none of it.
    assert.equal(await customer.locator("body", { hasText: "priority" }).count(), 0);
    assert.deepEqual(errors, []);
  });

  it("search finds customers and messages, highlights the words, and opens the conversation", async () => {
    const ann = await page(browser, errors);
    await ann.goto(`${URL}/admin#token=${token("ann", "admin", "Ann")}`);
    await ann.locator("#conn[data-state=online]").waitFor();
    await ann.fill("#search", "wholesa");
    const hit = ann.locator("#result-list .hit", { hasText: "prices" });
    await hit.locator("mark", { hasText: "wholesale" }).waitFor();
    assert.equal(await ann.locator("#inbox").isHidden(), true, "results replace the inbox");
    await ann.fill("#search", "reship");
    await ann.locator("#result-list .hit.note mark", { hasText: "reship" }).waitFor();
    await ann.fill("#search", "Nora");
    await ann.locator("#result-list .hit", { hasText: "Nora" }).first().waitFor();
    await ann.fill("#search", "returns free");
    const found = ann.locator("#result-list .hit", { hasText: "30 days" });
    await found.locator("mark", { hasText: "returns" }).waitFor();
    await screenshot(ann, "desk-search");
    await found.locator("button").click();
    await ann.locator("#thread-title", { hasText: "Omar" }).waitFor();
    // Cleared, the inbox is back.
    await ann.fill("#search", "");
    await ann.locator("#inbox").waitFor();
    assert.deepEqual(errors, []);
  });

  it("agents set their availability; the queue shows in the console and the widget", async () => {
    const ann = await page(browser, errors);
    await ann.goto(`${URL}/admin#token=${token("ann", "admin", "Ann")}`);
    const bo = await page(browser, errors);
    await bo.goto(`${URL}/admin#token=${token("bo", "agent", "Bo")}`);
    await bo.locator("#conn[data-state=online]").waitFor();
    await bo.selectOption("#availability", "away");
    await ann.click("#queue-tab");
    await ann.locator("#agents tr[data-id=bo] .avail.away").waitFor();

    // A guest waits: the widget says where they are in line, as the console does.
    const guest = await page(browser, errors);
    await guest.goto(`${URL}/`);
    await guest.click("#bubble");
    await guest.fill("#text", "is anyone there?");
    await guest.press("#text", "Enter");
    const place = guest.locator("#queue:not([hidden])");
    await place.waitFor();
    assert.match(await place.innerText(), /next in line|number \d+ in line/);
    const position = await place.getAttribute("data-position");
    const entry = ann.locator("#queue-list .queued", { hasText: "Guest" }).last();
    await entry.locator(".pos", { hasText: `#${position}` }).waitFor();
    await screenshot(guest, "widget-queue");
    // The admin sets Bo's capacity in the queue view.
    await ann.fill("#agents tr[data-id=bo] input.capacity", "3");
    await ann.press("#agents tr[data-id=bo] input.capacity", "Tab");
    await bo.click("#queue-tab");
    await bo.locator("#agents tr[data-id=bo] td", { hasText: "/ 3" }).waitFor();
    await screenshot(ann, "desk-queue");

    // Taken, the guest is out of the queue.
    const id = await entry.getAttribute("data-id");
    await entry.locator("button").click();
    await ann.locator(`#thread-title`).waitFor();
    await ann.click("#accept");
    await place.waitFor({ state: "hidden" });
    assert.ok(id);
    await bo.selectOption("#availability", "online");
    await ann.locator("#agents tr[data-id=bo] .avail.online").waitFor();
    assert.deepEqual(errors, []);
  });

  it("a resolved conversation is rated in the widget, and the console shows it", async () => {
    const customer = await page(browser, errors);
    await customer.goto(`${URL}/`);
    await customer.click("#bubble");
    await customer.click(".signin-token summary");
    await customer.fill("#token", token("rita-1", "customer", "Rita"));
    await customer.press("#token", "Enter");
    await customer.fill("#text", "all sorted, thanks");
    await customer.press("#text", "Enter");
    await customer.locator("#log li.out:not(.pending) .text", { hasText: "all sorted" }).waitFor();
    assert.equal(await customer.locator("#rating").isHidden(), true, "no rating before it is resolved");

    const ann = await page(browser, errors);
    await ann.goto(`${URL}/admin#token=${token("ann", "admin", "Ann")}`);
    // (Bo, online with a capacity now, may have been given it: Ann finds it by name.)
    await ann.fill("#search", "Rita");
    await ann.locator("#result-list .hit", { hasText: "Rita" }).first().locator("button").click();
    await ann.locator("#thread-title", { hasText: "Rita" }).waitFor();
    if (await ann.locator("#accept:not([disabled])").count()) await ann.click("#accept");
    await ann.locator("#thread-status", { hasText: "active" }).waitFor();
    await ann.click("#resolve");

    await customer.locator("#rating:not([hidden])").waitFor();
    await customer.click("#rating .stars button[data-score='4']");
    await customer.fill("#rating-comment", "Fast and friendly");
    await screenshot(customer, "widget-rating");
    await customer.click("#rating-send");
    await customer.locator("#rated:not([hidden])").waitFor();
    assert.equal(await customer.locator("#rating").isHidden(), true);
    await ann.locator("#thread-rating", { hasText: "★★★★☆ “Fast and friendly”" }).waitFor();

    // Transcripts: the widget downloads the text, the console opens the printable page.
    const [download] = await Promise.all([customer.waitForEvent("download"), customer.click("#transcript")]);
    const text = await new Promise((resolve, reject) => {
      download.createReadStream().then((s) => {
        let t = "";
        s.on("data", (d) => (t += d));
        s.on("end", () => resolve(t));
        s.on("error", reject);
      }, reject);
    });
    assert.match(text, /all sorted, thanks/);
    const [printable] = await Promise.all([ann.context().waitForEvent("page"), ann.click("#transcript")]);
    await printable.waitForLoadState();
    assert.match(await printable.content(), /all sorted, thanks/);
    assert.deepEqual(errors, []);
  });

  it("a snoozed conversation leaves the inbox for the Snoozed view until woken", async () => {
    const ann = await page(browser, errors);
    await ann.goto(`${URL}/admin#token=${token("ann", "admin", "Ann")}`);
    const nora = ann.locator("#inbox .item", { hasText: "Nora" });
    await nora.locator("button").click();
    await ann.locator("#thread-title", { hasText: "Nora" }).waitFor();
    await ann.selectOption("#snooze", "1h");
    await ann.locator("#thread-snoozed:not([hidden])", { hasText: "snoozed until" }).waitFor();
    await nora.waitFor({ state: "detached" });
    await ann.click(".filters button[data-status=snoozed]");
    await nora.waitFor();
    await ann.selectOption("#snooze", "wake");
    await ann.locator("#thread-snoozed").waitFor({ state: "hidden" });
    await nora.waitFor({ state: "detached" });
    await ann.click(".filters button[data-status=waiting]");
    await nora.waitFor();
    assert.deepEqual(errors, []);
  });
});
