// Pure: LSP inline completion items -> Monaco inline completions. No monaco import here
// (types only), so test/completions.test.mjs checks it in Node.
import type * as monaco from "monaco-editor/esm/vs/editor/editor.api.js";

export type LspPosition = { line: number; character: number };
export type LspRange = { start: LspPosition; end: LspPosition };
export type LspCommand = { title: string; command: string; arguments?: unknown[] };
export type LspItem = { insertText: string | { value: string }; range?: LspRange; command?: LspCommand };

/**
 * The Monaco command that runs when a suggestion is accepted: main.ts registers it to send
 * `workspace/executeCommand` with the item's LSP command (copilot.accepted) to the server.
 */
export const SERVER_COMMAND = "copilot-lsp.playground.executeServerCommand";

/** The `workspace/executeCommand` parameters for the arguments SERVER_COMMAND gets. */
export function executeCommandParams(
  command: string,
  args: unknown[] | undefined,
): { command: string; arguments: unknown[] } {
  return { command, arguments: args ?? [] };
}

export function toInlineCompletions<R>(
  items: LspItem[],
  toRange: (range: LspRange) => R,
): { insertText: string; range: R | undefined; command: monaco.languages.Command | undefined }[] {
  return items.map((item) => ({
    insertText: typeof item.insertText === "string" ? item.insertText : item.insertText.value,
    range: item.range ? toRange(item.range) : undefined,
    // Monaco runs an item's command when it is accepted (Tab).
    command: item.command && {
      id: SERVER_COMMAND,
      title: item.command.title,
      arguments: [item.command.command, item.command.arguments ?? []],
    },
  }));
}
