// The browser half of tests/clients/test_vscode_real.py: a real VS Code workbench (served by
// code-server, started by the Python test with the built extension installed) in Debian's
// chromium, driven by playwright-core. Opens the file with Quick Open, waits for the model to
// load, puts the cursor at the end of LINE, types TYPE like a user, waits for Monaco's ghost
// text, accepts it with Tab and saves with Ctrl+S. The Python test then checks the whole
// saved file.
//
// Environment: URL (the workbench, with ?folder=...), PATH_ON_DISK (the file, in that
// folder), LINE (1-based), TYPE (text to type), MODEL (as in the settings, default fast),
// CHROMIUM (default /usr/bin/chromium), SCREENSHOT (png path), TIMEOUT_MS (default 420000).
// Prints one line `vscode real e2e: {"ghost": ...}` with the ghost text it saw.
import { mkdtemp, mkdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../../../chromium-args.mjs";

const url = process.env.URL;
const path = process.env.PATH_ON_DISK;
const file = path && basename(path);
const line = Number(process.env.LINE);
const typed = process.env.TYPE ?? "";
const model = process.env.MODEL ?? "fast";
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const screenshot = process.env.SCREENSHOT ?? "test-results/vscode-real.png";
const timeout = Number(process.env.TIMEOUT_MS ?? 420000);
if (!url || !path || !line) throw new Error("URL, PATH_ON_DISK and LINE must be set");

/** Waits for `locator` to be visible; on timeout says what was awaited and saves a screenshot. */
async function visible(page, locator, what, ms = timeout) {
  try {
    await locator.waitFor({ state: "visible", timeout: ms });
  } catch (error) {
    await page.screenshot({ path: screenshot }).catch(() => {});
    const status = await page
      .locator(".statusbar")
      .innerText()
      .catch(() => "?");
    throw new Error(`waited ${ms} ms for ${what}; status bar: ${status.replace(/\s+/g, " ")}\n${error.message}`);
  }
}

/** Waits until line `line` of the file on disk ends with `text` (VS Code saves asynchronously). */
async function saved(path, line, text, ms = 60000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const current = (await readFile(path, "utf8")).split("\n")[line - 1] ?? "";
    if (current.endsWith(text)) return;
    if (Date.now() > deadline) {
      throw new Error(`Ctrl+S: after ${ms} ms line ${line} of ${path} is ${JSON.stringify(current)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const profile = await mkdtemp(join(tmpdir(), "copilot-lsp-chromium-"));
await mkdir(dirname(screenshot), { recursive: true });
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: CHROMIUM_ARGS,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (error) => console.error("page error:", error.message));
  await page.goto(url);
  await visible(page, page.locator(".monaco-workbench .part.editor"), "the workbench", 180000);

  // Open the file with Quick Open, like a user.
  await page.keyboard.press("Control+P");
  await visible(page, page.locator(".quick-input-widget input"), "Quick Open", 60000);
  await page.keyboard.type(file);
  await visible(page, page.locator(".quick-input-list .monaco-list-row").first(), `${file} in Quick Open`, 60000);
  await page.keyboard.press("Enter");
  const editor = page.locator(".editor-instance .monaco-editor").first();
  await visible(page, editor.locator(".view-lines"), `the editor for ${file}`, 60000);
  await visible(page, page.locator(".tab.active", { hasText: file }), `the ${file} tab`, 60000);

  // The extension's status item turns to a sparkle once the model has loaded: a request
  // sent while it loads gets no suggestion, and VS Code asks again only on the next edit.
  const ready = page.locator(".statusbar-item:has(.codicon-sparkle)", { hasText: `copilot ${model}` });
  await visible(page, ready, `the model to load (status item "$(sparkle) copilot ${model}")`);

  // Focus the text, cursor to the end of LINE (Go to Line, then End), then type.
  await editor.locator(".view-lines").click();
  await page.keyboard.press("Control+G");
  await visible(page, page.locator(".quick-input-widget input"), "Go to Line", 60000);
  await page.keyboard.type(String(line));
  await page.keyboard.press("Enter");
  await page.keyboard.press("End");
  await page.keyboard.type(typed, { delay: 50 });

  // Monaco draws the inline part of the suggestion with .ghost-text-decoration and further
  // lines in a .ghost-text view zone.
  const ghost = editor.locator(".ghost-text-decoration, .ghost-text").first();
  await visible(page, ghost, "ghost text");
  const shown = await editor.evaluate((root) => {
    const text = (nodes) => [...nodes].map((node) => node.textContent.replace(/\u00a0/g, " "));
    return {
      inline: text(root.querySelectorAll(".ghost-text-decoration")).join(""),
      lines: text(root.querySelectorAll(".ghost-text .view-line")),
    };
  });
  console.log(`ghost text: ${JSON.stringify(shown)}`);
  await page.screenshot({ path: screenshot });

  // Tab accepts: the ghost text goes away and the line holds what was typed plus the
  // suggestion (accepting is asynchronous, so wait for that before saving). Ctrl+S then
  // writes the buffer to PATH_ON_DISK; wait for the file (the tab showed no dirty class).
  await page.keyboard.press("Tab");
  const firstLine = typed + shown.inline;
  try {
    await editor.evaluate(
      (root, firstLine) =>
        new Promise((resolve, reject) => {
          const deadline = Date.now() + 30000;
          const check = () => {
            const lines = [...root.querySelectorAll(".view-lines .view-line")].map((node) =>
              node.textContent.replace(/\u00a0/g, " "),
            );
            const ghostGone = !root.querySelector(".ghost-text-decoration, .ghost-text");
            if (ghostGone && lines.some((text) => text.endsWith(firstLine))) resolve();
            else if (Date.now() > deadline) reject(new Error(`lines: ${JSON.stringify(lines)}`));
            else setTimeout(check, 50);
          };
          check();
        }),
      firstLine,
    );
  } catch (error) {
    await page.screenshot({ path: screenshot });
    throw new Error(`after Tab no line ends with ${JSON.stringify(firstLine)}: ${error.message}`);
  }
  await page.keyboard.press("Control+S");
  await saved(path, line, firstLine);
  console.log(`screenshot in ${screenshot}`);
  console.log(`vscode real e2e: ${JSON.stringify({ ghost: shown })}`);
} finally {
  await context?.close();
  await rm(profile, { recursive: true, force: true });
}
