// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: 2026 The Runner authors
//
// Runner's built-in page in a real browser: Debian's Chromium, driven by
// playwright-core. The test starts the built runner binary on a free port with
// a temporary workspace, opens the page with the token, and uses it as a
// person would: the tree, a file, an edit saved to disk, and the terminal.
// Every wait is on a condition, bounded by a timeout that fails.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");

const BINARY = process.env.RUNNER_BINARY;
if (!BINARY) throw new Error("RUNNER_BINARY is not set (run through meson test)");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run .ci/install-deps --test`);

const TOKEN = "e2e-token-0123456789";
const WAIT_MS = 20000;

function startRunner(workspace) {
  const child = spawn(BINARY, ["serve", "--port=0", "--bind=127.0.0.1", "--workspace", workspace], {
    // An empty HOME: the shell must not run the machine's own rc files.
    env: { ...process.env, RUNNER_TOKEN: TOKEN, RUNNER_DBUS: "none", SHELL: "/bin/bash", HOME: path.dirname(workspace) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const url = new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`runner did not start: ${stderr}`)), WAIT_MS);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/Runner listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
  });
  return { child, url, exited, stderr: () => stderr };
}

const dir = mkdtempSync(path.join(tmpdir(), "runner-e2e-"));
const workspace = path.join(dir, "workspace");
mkdirSync(path.join(workspace, "src"), { recursive: true });
writeFileSync(path.join(workspace, "hello.txt"), "hello from the workspace\n");
writeFileSync(path.join(workspace, "src", "main.c"), "int main (void) { return 0; }\n");

const runner = startRunner(workspace);
let browser;

after(async () => {
  if (browser) await browser.close();
  if (runner.child.exitCode === null) {
    runner.child.kill("SIGTERM");
    const { code } = await runner.exited;
    assert.equal(code, 0, `runner exited with ${code}: ${runner.stderr()}`);
  }
  rmSync(dir, { recursive: true, force: true });
});

test("the page shows the tree, opens, edits and saves a file, and runs a command in the terminal", async () => {
  const url = await runner.url;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // A supplied token is not printed with the URL: the page is opened with it.
  await page.goto(`${url}?token=${TOKEN}`);

  // The tree arrives over the WebSocket.
  await page.locator("#status", { hasText: "connected" }).waitFor({ timeout: WAIT_MS });
  const file = page.locator("#tree div", { hasText: "hello.txt" });
  await file.waitFor({ timeout: WAIT_MS });
  await page.locator("#tree div", { hasText: "main.c" }).waitFor({ timeout: WAIT_MS });

  // Open, edit, save: the file on disk changes.
  await file.click();
  await page.waitForFunction(() => document.getElementById("content").value.startsWith("hello from"),
                             null, { timeout: WAIT_MS });
  await page.fill("#content", "edited in the browser\n");
  await page.click("#save");
  await page.locator("#status", { hasText: "saved" }).waitFor({ timeout: WAIT_MS });
  assert.equal(readFileSync(path.join(workspace, "hello.txt"), "utf8"), "edited in the browser\n");

  // The terminal: keys typed into the page reach the shell, its output comes back.
  await page.click("#term");
  await page.keyboard.type("echo e2e-$((6*7))");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.getElementById("term").textContent.includes("e2e-42"),
                             null, { timeout: WAIT_MS });

  // A file made in the shell shows up in the tree.
  await page.keyboard.type("touch made-in-shell.txt");
  await page.keyboard.press("Enter");
  await page.locator("#tree div", { hasText: "made-in-shell.txt" }).waitFor({ timeout: WAIT_MS });

  assert.deepEqual(errors, []);
  const shot = path.join(process.env.G_TEST_BUILDDIR ?? dir, "e2e-page.png");
  await page.screenshot({ path: shot });
});
