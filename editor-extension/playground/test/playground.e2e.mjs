// End-to-end test of the playground in a real browser: starts `copilot-lsp playground`
// (real server, real model), drives Debian's chromium with playwright-core, types in
// Monaco, waits for the ghost text, presses Tab and checks the editor's content.
//
// Environment: PYTHON (interpreter with copilot_lsp importable, default python3),
// CHROMIUM (default /usr/bin/chromium), MODEL (default fast), SCREENSHOT (png path,
// default test-results/playground.png), TIMEOUT_MS (default 240000).
import { spawn } from "node:child_process";
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../../chromium-args.mjs";

const python = process.env.PYTHON ?? "python3";
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const model = process.env.MODEL ?? "fast";
const screenshot = process.env.SCREENSHOT ?? "test-results/playground.png";
const timeout = Number(process.env.TIMEOUT_MS ?? 240000);

function startPlayground() {
  const child = spawn(python, ["-m", "copilot_lsp", "playground", "--model", model], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const match = line.match(/(http:\/\/\S+)/);
      if (match) resolve(match[1]);
    });
    child.on("exit", (code) => reject(new Error(`copilot-lsp playground exited with ${code}`)));
  });
  return { child, url };
}

/** The text after applying an LSP item (0-based UTF-16 positions) to `text`. */
function applyItem(text, item) {
  const lines = text.split("\n");
  const offset = ({ line, character }) =>
    lines.slice(0, line).reduce((sum, l) => sum + l.length + 1, 0) + character;
  const insert = typeof item.insertText === "string" ? item.insertText : item.insertText.value;
  return text.slice(0, offset(item.range.start)) + insert + text.slice(offset(item.range.end));
}

const { child, url: urlPromise } = startPlayground();
const profile = await mkdtemp(join(tmpdir(), "copilot-lsp-chromium-"));
let context;
try {
  const url = await urlPromise;
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1100, height: 640 },
    args: CHROMIUM_ARGS,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (error) => console.error("page error:", error.message));
  // Every JSON-RPC message the page sends, to check that accepting reports copilot.accepted.
  const sent = [];
  page.on("websocket", (socket) =>
    socket.on("framesent", (frame) => {
      try {
        sent.push(JSON.parse(String(frame.payload)));
      } catch {}
    }),
  );
  await page.goto(url);

  // The model must load (status indicator says ready).
  await page.waitForFunction(() => window.playground?.status?.state === "ready", null, { timeout });
  const indicator = await page.textContent("#status");
  assert.match(indicator, new RegExp(`model ${model}`));
  console.log(`status: ${indicator}`);

  // Open textstats.py from the example picker, put the cursor at its end and type the
  // start of a new function like a user.
  await page.selectOption("#example", "python/textstats.py");
  await page.evaluate(() => {
    const editor = window.playground.editor;
    const model = editor.getModel();
    const end = model.getFullModelRange().getEndPosition();
    editor.setPosition(end);
    editor.focus();
  });
  await page.keyboard.press("Enter");
  await page.keyboard.press("Enter");
  await page.keyboard.type("def variance(values: list[float]) -> float:");
  await page.keyboard.press("Enter");

  // Ghost text appears (Monaco renders it with the ghost-text classes).
  const ghost = page.locator(".ghost-text-decoration, .ghost-text").first();
  await ghost.waitFor({ state: "visible", timeout });
  const shown = await page.evaluate(() => ({
    text: window.playground.editor.getValue(),
    completion: window.playground.lastCompletion,
  }));
  assert.ok(shown.completion?.items.length, "the server returned no item");
  const item = shown.completion.items[0];
  const insert = typeof item.insertText === "string" ? item.insertText : item.insertText.value;
  assert.ok(insert.trim().length > 0, "empty suggestion");
  console.log(`ghost text after ${Math.round(shown.completion.latencyMs)} ms:\n${insert}`);
  await mkdir(dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot });

  // Tab accepts: the editor now holds exactly the text with the suggestion applied.
  await page.keyboard.press("Tab");
  const after = await page.evaluate(() => window.playground.editor.getValue());
  assert.equal(after, applyItem(shown.text, item));
  assert.ok(after.includes("def variance(values: list[float]) -> float:\n"));
  // Accepting runs the item's command: the server hears workspace/executeCommand copilot.accepted.
  assert.equal(item.command?.command, "copilot.accepted");
  const reported = () =>
    sent.find(
      (m) =>
        m.method === "workspace/executeCommand" &&
        m.params?.command === item.command.command &&
        JSON.stringify(m.params.arguments) === JSON.stringify(item.command.arguments ?? []),
    );
  for (let waited = 0; !reported() && waited < 5000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  assert.ok(reported(), "accepting sent no workspace/executeCommand copilot.accepted");
  console.log(`accepted; screenshot in ${screenshot}`);
  console.log("playground e2e: ok");
} finally {
  await context?.close();
  child.kill("SIGTERM");
  await rm(profile, { recursive: true, force: true });
}
