// Unit test of src/completions.ts (LSP items -> Monaco inline completions) in Node:
// `node --test test/completions.test.mjs`. esbuild compiles the TypeScript module.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const { outputFiles } = await build({
  entryPoints: [fileURLToPath(new URL("../src/completions.ts", import.meta.url))],
  bundle: true,
  format: "esm",
  platform: "neutral",
  write: false,
  logLevel: "silent",
});
const { SERVER_COMMAND, executeCommandParams, toInlineCompletions } = await import(
  `data:text/javascript,${encodeURIComponent(outputFiles[0].text)}`
);

const range = { start: { line: 1, character: 0 }, end: { line: 1, character: 4 } };
const accepted = { title: "accepted", command: "copilot.accepted", arguments: [{ id: "c1" }] };

test("an accepted item runs a command that sends the item's LSP command to the server", () => {
  const [item] = toInlineCompletions([{ insertText: "    return x", range, command: accepted }], (r) => r);
  assert.equal(item.insertText, "    return x");
  assert.deepEqual(item.range, range);
  assert.deepEqual(item.command, {
    id: SERVER_COMMAND,
    title: "accepted",
    arguments: ["copilot.accepted", [{ id: "c1" }]],
  });
  // What the registered Monaco command sends as workspace/executeCommand.
  assert.deepEqual(executeCommandParams(...item.command.arguments), {
    command: "copilot.accepted",
    arguments: [{ id: "c1" }],
  });
});

test("items without a command or range, and snippet insert texts, map as before", () => {
  const [item] = toInlineCompletions([{ insertText: { value: "pass" } }], () => assert.fail("no range"));
  assert.deepEqual(item, { insertText: "pass", range: undefined, command: undefined });
  assert.deepEqual(executeCommandParams("copilot.accepted", undefined), { command: "copilot.accepted", arguments: [] });
});
