// The server restarts mid-conversation: both pages reconnect by themselves, and the
// next messages arrive once each. This test runs its own server process (SB_BIN).
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, page, screenshot, token } from "./helpers.js";

const SECRET = process.env.SB_SECRET;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Start the server binary and wait until it answers /health. */
async function startServer(port, dataDir) {
  const child = spawn(process.env.SB_BIN, [], {
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, JWT_SECRET: SECRET, RUST_LOG: "warn", DATABASE_URL: "" },
    stdio: "ignore",
  });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return child;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("server did not start");
}

const stop = (child) =>
  new Promise((resolve) => {
    child.once("exit", resolve);
    child.kill("SIGTERM");
  });

describe("server restart", () => {
  let browser;
  let server;
  after(async () => {
    await browser?.close();
    if (server && server.exitCode === null) await stop(server);
  });

  it("both pages reconnect and later messages arrive once each", async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), "sb-restart-"));
    const url = `http://127.0.0.1:${port}`;
    server = await startServer(port, dataDir);
    browser = await launch();
    const errors = [];

    const guest = await page(browser, errors);
    await guest.goto(`${url}/`);
    await guest.click("#bubble");
    await guest.fill("#text", "before the restart");
    await guest.press("#text", "Enter");
    await guest.locator("#log li.out:not(.pending) .text", { hasText: "before the restart" }).waitFor();

    const agent = await page(browser, errors);
    await agent.goto(`${url}/admin#token=${token("bo", "agent", "Bo")}`);
    await agent.locator("#inbox .item", { hasText: "before the restart" }).locator("button").click();
    await agent.locator("#log li.in .text", { hasText: "before the restart" }).waitFor();

    await stop(server);
    await guest.locator("#conn[data-state=reconnecting]").waitFor();
    await agent.locator("#conn[data-state=reconnecting]").waitFor();
    // Written while the server is down: it waits, and goes once the page is back.
    await guest.fill("#text", "written while down");
    await guest.press("#text", "Enter");
    server = await startServer(port, dataDir);
    await guest.locator("#conn[data-state=online]").waitFor({ timeout: 15000 });
    await agent.locator("#conn[data-state=online]").waitFor({ timeout: 15000 });

    await agent.locator("#log li.in .text", { hasText: "written while down" }).waitFor();
    await guest.fill("#text", "after the restart");
    await guest.press("#text", "Enter");
    await agent.locator("#log li.in .text", { hasText: "after the restart" }).waitFor();
    await agent.fill("#reply-text", "welcome back");
    await agent.press("#reply-text", "Enter");
    await guest.locator("#log li.in .text", { hasText: "welcome back" }).waitFor();
    await new Promise((r) => setTimeout(r, 300));

    for (const [p, text] of [
      [guest, "before the restart"],
      [guest, "written while down"],
      [agent, "written while down"],
      [guest, "after the restart"],
      [guest, "welcome back"],
      [agent, "before the restart"],
      [agent, "after the restart"],
      [agent, "welcome back"],
    ]) {
      assert.equal(await p.locator("#log li .text", { hasText: text }).count(), 1, text);
    }
    await screenshot(guest, "widget-after-restart");
    assert.deepEqual(errors, []);
  });
});
