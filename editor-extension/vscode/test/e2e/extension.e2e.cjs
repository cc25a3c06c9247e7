// The built extension (dist/extension.js, with vscode-languageclient inside) activated in
// Node against the real `copilot-lsp serve` and the fast model. VS Code itself cannot run
// here, so `require("vscode")` gets a small stand-in (vscode-stub.cjs) that records what the
// extension registers; the language client, the server process and the model are real.
//
// Environment: PYTHON (interpreter with copilot_lsp importable, default python3),
// TIMEOUT_MS (default 240000).
"use strict";
const assert = require("node:assert/strict");
const Module = require("node:module");
const path = require("node:path");
const { createStub } = require("./vscode-stub.cjs");

const timeout = Number(process.env.TIMEOUT_MS ?? 240000);
const example = path.resolve(__dirname, "../../../../examples/python/textstats.py");
const settings = {
  pythonPath: process.env.PYTHON ?? "python3",
  model: "fast",
  maxNewTokens: 16,
  debounceMs: 50,
  enable: { "*": true, markdown: false },
};
const vscode = createStub(settings);
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === "vscode" ? vscode : load.call(this, request, ...rest);
};

async function waitFor(probe, what) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`waited ${timeout} ms for ${what}; status bar: ${vscode.statusItem?.text}`);
}

async function main() {
  const extension = require("../../dist/extension.js");
  // An open editor before activation, like a workspace restored with a file open.
  const text = require("node:fs").readFileSync(example, "utf8");
  const cut = text.indexOf("len(values)\n");
  const document = vscode.openDocument(example, "python", text.slice(0, cut) + text.slice(cut + "len(values)".length));
  const context = { subscriptions: [] };
  await extension.activate(context);

  for (const command of ["copilot.toggle", "copilot.showLog", "copilot.restart", "copilot.generateTests"]) {
    assert.ok(vscode.commandHandlers.has(command), `command ${command} not registered`);
  }
  await waitFor(() => vscode.statusItem.text.startsWith("$(sparkle) copilot fast"), "the model to load");
  console.log(`status bar: ${vscode.statusItem.text}`);

  // The inline completion provider came from registerProposedFeatures().
  const provider = await waitFor(() => vscode.inlineProviders[0], "an inline completion provider");
  // The server offers "Generate tests for NAME" as a code action; the client registered it.
  assert.ok(vscode.codeActionProviders.length > 0, "no code action provider registered");
  const position = document.positionAt(cut);
  const ask = (current = provider) =>
    current.provideInlineCompletionItems(
      document,
      position,
      { triggerKind: vscode.InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined },
      new vscode.CancellationTokenSource().token,
    );
  const result = await ask();
  const items = Array.isArray(result) ? result : result?.items;
  assert.ok(items?.length, "no inline completion item");
  const insert = typeof items[0].insertText === "string" ? items[0].insertText : items[0].insertText.value;
  console.log(`suggestion at ${position.line + 1}:${position.character + 1}: ${JSON.stringify(insert)}`);
  assert.ok(insert.trim().length > 0);
  assert.match(vscode.statusItem.text, /^\$\(sparkle\) copilot fast \d/, "no latency in the status bar");
  console.log(`status bar after the request: ${vscode.statusItem.text}`);

  // Toggle off: the middleware answers without asking the server; toggle on again.
  await vscode.commandHandlers.get("copilot.toggle")();
  assert.equal(await ask(), undefined);
  assert.match(vscode.statusItem.text, /off/);
  await vscode.commandHandlers.get("copilot.toggle")();

  // Restart: the old server stops, a new one starts and loads the model again.
  await vscode.commandHandlers.get("copilot.restart")();
  await waitFor(() => vscode.statusItem.text.startsWith("$(sparkle) copilot fast"), "the restarted server");
  assert.equal(vscode.inlineProviders.length, 1, "the old client's provider is still registered");
  const restarted = vscode.inlineProviders[0];
  assert.notEqual(restarted, provider);
  const again = await ask(restarted);
  assert.ok((Array.isArray(again) ? again : again?.items)?.length, "no suggestion after the restart");

  await extension.deactivate();
  for (const disposable of context.subscriptions) disposable.dispose?.();
  console.log("vscode extension e2e: ok");
}

process.on("unhandledRejection", (error) => {
  console.error("unhandled rejection:", error?.message ?? error);
  console.error(vscode.logLines.slice(-40).join("\n"));
  process.exit(1);
});

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    console.error(vscode.logLines.slice(-40).join("\n"));
    process.exit(1);
  },
);
