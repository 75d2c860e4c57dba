// The agent console's tools, against a conversation a guest starts in the widget:
// live inbox with filters and unread counts, typing, paging on scroll, files, assign,
// resolve, close, onboarding codes, the online-staff list; and the widget on a phone.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { URL, launch, page, screenshot, token } from "./helpers.js";

const PDF = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");

async function api(method, path, body, bearer) {
  const res = await fetch(URL + path, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status}`);
  return res.json();
}

describe("agent console", () => {
  let browser;
  const errors = [];
  before(async () => (browser = await launch()));
  after(async () => browser?.close());

  it("inbox, typing, paging, files, assign, resolve, close, codes, online staff", async () => {
    const ann = await page(browser, errors);
    await ann.goto(`${URL}/admin#token=${token("ann", "admin", "Ann")}`);
    // Bo signs in by pasting his token.
    const bo = await page(browser, errors);
    await bo.goto(`${URL}/admin`);
    await bo.fill("#token", token("bo", "agent", "Bo"));
    await bo.press("#token", "Enter");
    await bo.locator("#conn[data-state=online]").waitFor();
    // Both see each other online.
    await ann.locator("#staff li", { hasText: "Bo" }).waitFor();
    await bo.locator("#staff li", { hasText: "Ann" }).waitFor();

    // A guest writes on a phone-sized screen.
    const phone = await browser.newContext({ viewport: { width: 390, height: 780 } });
    const guest = await phone.newPage();
    guest.on("pageerror", (e) => errors.push(e.message));
    await guest.goto(`${URL}/`);
    await guest.click("#bubble");
    const box = await guest.locator("#widget").boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390, "the widget fits the phone");
    await guest.fill("#text", "first question");
    await guest.press("#text", "Enter");
    await guest.locator("#log li.out:not(.pending) .text", { hasText: "first question" }).waitFor();
    await screenshot(guest, "widget-phone");

    // It shows up waiting with an unread count, and not under Active.
    const item = ann.locator("#inbox .item", { hasText: "first question" });
    await item.locator(".badge", { hasText: "1" }).waitFor();
    await ann.click(".filters button[data-status=active]");
    await ann.locator("#inbox .empty").waitFor();
    await ann.click(".filters button[data-status=waiting]");
    await item.locator("button").click();

    // Many messages: the console shows the latest page and loads older ones on scroll.
    const id = await ann.locator("#inbox .item.open").getAttribute("data-id");
    assert.ok(id);
    for (let i = 0; i < 45; i++) {
      await api("POST", `/api/v1/chat/sessions/${id}/messages`, { content: `note ${i}` }, token(`helper-${i}`, "agent", `Helper ${i}`));
    }
    await ann.locator("#log li .text", { hasText: "note 44" }).waitFor();
    await ann.click("#back");
    // (Its last message is a note now: find it by id.)
    await ann.locator(`#inbox .item[data-id="${id}"] button`).click();
    await ann.locator("#log li .text", { hasText: "note 44" }).waitFor();
    assert.equal(await ann.locator("#log li .text", { hasText: "first question" }).count(), 0, "older messages wait");
    await ann.locator("#log").evaluate((log) => (log.scrollTop = 0));
    await ann.locator("#log li .text", { hasText: "first question" }).waitFor();

    // The customer typing shows in the console.
    await guest.type("#text", "typing…");
    await ann.locator("#typing:not([hidden])").waitFor();

    // A PDF is offered as a download.
    await guest.setInputFiles("#file", { name: "invoice.pdf", mimeType: "application/pdf", buffer: PDF });
    const link = ann.locator("#log a.file", { hasText: "invoice.pdf" });
    await link.waitFor();
    const [download] = await Promise.all([ann.waitForEvent("download"), link.click()]);
    assert.equal(download.suggestedFilename(), "invoice.pdf");

    // Assign to Bo: it is active and his.
    await ann.selectOption("#assign", "bo");
    await ann.locator("#thread-status", { hasText: "active" }).waitFor();
    await bo.click(".filters button[data-status=active]");
    await bo.locator("#inbox .item", { hasText: /./ }).first().waitFor();

    // An onboarding code: shown to the agent, and sent in the chat.
    await ann.click("#code");
    await ann.locator("#code-out:not([hidden])").waitFor();
    await ann.waitForFunction(() => document.querySelector("#code-out").textContent.length > 0);
    const said = await ann.locator("#code-out").textContent();
    const code = said.match(/Code (\d{6})/)?.[1];
    assert.ok(code, `a six-digit code, got: ${said}`);
    await guest.locator("#log li .text", { hasText: code }).waitFor();

    await ann.click("#resolve");
    await ann.locator("#thread-status", { hasText: "resolved" }).waitFor();
    await ann.click("#close");
    await ann.locator("#thread-status", { hasText: "closed" }).waitFor();
    await ann.click(".filters button[data-status=closed]");
    await ann.locator("#inbox .item.open").waitFor();
    await screenshot(ann, "admin-closed");
    // Esc closes the conversation.
    await ann.keyboard.press("Escape");
    await ann.locator("#thread").waitFor({ state: "hidden" });
    // From the console, "Go live" opens the live page in host mode.
    await ann.click("#golive");
    await ann.locator("#host:not([hidden])").waitFor();
    assert.deepEqual(errors, []);
  });

  it("a signed-in customer chats by token; the console works on a phone", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 780 } });
    const agent = await phone.newPage();
    agent.on("pageerror", (e) => errors.push(e.message));
    await agent.goto(`${URL}/admin#token=${token("cy", "agent", "Cy")}`);
    await agent.locator("#conn[data-state=online]").waitFor();

    const customer = await page(browser, errors);
    await customer.goto(`${URL}/`);
    await customer.click("#bubble");
    await customer.click(".signin-token summary");
    await customer.fill("#token", token("carla-1", "customer", "Carla"));
    await customer.press("#token", "Enter");
    await customer.fill("#text", "signed in and asking");
    await customer.press("#text", "Enter");
    await customer.locator("#log li.out:not(.pending) .text", { hasText: "signed in and asking" }).waitFor();

    const item = agent.locator("#inbox .item", { hasText: "Carla" });
    await item.waitFor();
    const box = await agent.locator("#inbox").boundingBox();
    assert.ok(box.width <= 390, "the inbox fits the phone");
    await item.locator("button").click();
    await agent.locator("#log li.in .text", { hasText: "signed in and asking" }).waitFor();
    await screenshot(agent, "admin-phone");
    assert.deepEqual(errors, []);
  });
});
