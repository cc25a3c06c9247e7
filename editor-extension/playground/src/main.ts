// The playground page: Monaco + copilot-lsp over a WebSocket. Ghost text comes from
// Monaco's inline completions provider; Tab accepts it (Monaco's own keybinding).
import * as monaco from "monaco-editor/esm/vs/editor/editor.api.js";
import "monaco-editor/esm/vs/editor/editor.all.js";
import "monaco-editor/esm/vs/basic-languages/python/python.contribution.js";
import "monaco-editor/esm/vs/basic-languages/javascript/javascript.contribution.js";
import "monaco-editor/esm/vs/basic-languages/typescript/typescript.contribution.js";
import "monaco-editor/esm/vs/basic-languages/go/go.contribution.js";
import "./style.css";
import {
  type LspItem,
  type LspPosition,
  type LspRange,
  SERVER_COMMAND,
  executeCommandParams,
  toInlineCompletions,
} from "./completions";
import { REQUEST_CANCELLED, RpcError, RpcSocket } from "./rpc";

(self as any).MonacoEnvironment = { getWorkerUrl: () => "assets/editor.worker.js" };

type Example = { name: string; language: string; text: string };
type Status = { state: string; model: string; error?: string | null; loadSeconds?: number | null };

const DEBOUNCE_MS = 150;
const LANGUAGES = ["python", "javascript", "typescript", "go"];

/** What the page exposes for the end-to-end test and for curious users (devtools). */
const playground = {
  editor: undefined as monaco.editor.IStandaloneCodeEditor | undefined,
  status: undefined as Status | undefined,
  lastCompletion: undefined as { items: LspItem[]; latencyMs: number } | undefined,
  inFlight: 0,
};
(window as any).playground = playground;

const statusElement = document.getElementById("status")!;
const messageElement = document.getElementById("message")!;
let lastLatency: number | undefined;
let progressMessage = "";

function showStatus(): void {
  const status = playground.status;
  let state = status?.state ?? "connecting";
  if (state === "ready" && playground.inFlight > 0) state = "busy";
  const parts = [status ? `model ${status.model}` : "", state];
  if (state === "loading" && progressMessage) parts.push(progressMessage);
  if (lastLatency !== undefined) parts.push(`last ${Math.round(lastLatency)} ms`);
  if (status?.error) parts.push(status.error);
  statusElement.textContent = parts.filter(Boolean).join(" · ");
  statusElement.dataset.state = state;
}

function toLspPosition(position: monaco.IPosition): LspPosition {
  return { line: position.lineNumber - 1, character: position.column - 1 };
}

function toMonacoRange(range: LspRange): monaco.Range {
  return new monaco.Range(
    range.start.line + 1,
    range.start.character + 1,
    range.end.line + 1,
    range.end.character + 1,
  );
}

function sleep(ms: number, token: monaco.CancellationToken): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(!token.isCancellationRequested), ms);
    token.onCancellationRequested(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

async function main(): Promise<void> {
  const query = new URLSearchParams(location.search);
  const token = query.get("token") ?? "";
  const auth = `token=${encodeURIComponent(token)}`;
  const [config, examples] = await Promise.all([
    fetch(`config.json?${auth}`).then((r) => r.json()),
    fetch(`examples.json?${auth}`).then((r) => r.json() as Promise<Example[]>),
  ]);

  const editor = monaco.editor.create(document.getElementById("editor")!, {
    theme: "vs-dark",
    automaticLayout: true,
    fontSize: 14,
    minimap: { enabled: false },
    inlineSuggest: { enabled: true },
    quickSuggestions: false,
    wordBasedSuggestions: "off",
  });
  playground.editor = editor;

  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const rpc = await RpcSocket.open(`${scheme}://${location.host}/lsp?${auth}`);
  rpc.onClose = () => {
    playground.status = { state: "disconnected", model: playground.status?.model ?? "" };
    showStatus();
  };
  rpc.onRequest("window/workDoneProgress/create", () => null);
  rpc.onRequest("client/registerCapability", () => null);
  rpc.onRequest("workspace/configuration", (params) =>
    params.items.map(() => config.initializationOptions ?? {}),
  );
  rpc.onNotification("$/progress", (params) => {
    progressMessage = params.value?.message ?? params.value?.title ?? "";
    showStatus();
  });
  rpc.onNotification("window/showMessage", (params) => {
    messageElement.textContent = params.message;
  });
  rpc.onNotification("window/logMessage", (params) => console.log(params.message));

  await rpc.request("initialize", {
    processId: null,
    clientInfo: { name: "copilot-lsp playground" },
    rootUri: null,
    capabilities: {
      general: { positionEncodings: ["utf-16"] },
      window: { workDoneProgress: true, showMessage: {} },
      textDocument: {
        synchronization: { dynamicRegistration: false },
        inlineCompletion: { dynamicRegistration: false },
      },
    },
    initializationOptions: config.initializationOptions ?? {},
  });
  rpc.notify("initialized", {});

  // --- documents: one open model at a time, synced incrementally ---
  let openUri: string | undefined;
  let version = 0;
  const select = document.getElementById("example") as HTMLSelectElement;
  for (const example of examples) select.add(new Option(example.name, example.name));

  function openExample(example: Example): void {
    const uri = monaco.Uri.parse(`file:///playground/${example.name}`);
    if (openUri !== undefined) rpc.notify("textDocument/didClose", { textDocument: { uri: openUri } });
    const model = monaco.editor.getModel(uri) ?? monaco.editor.createModel(example.text, example.language, uri);
    model.setValue(example.text);
    const old = editor.getModel();
    editor.setModel(model);
    if (old !== null && old !== model) old.dispose();
    openUri = uri.toString();
    version = 1;
    rpc.notify("textDocument/didOpen", {
      textDocument: { uri: openUri, languageId: example.language, version, text: model.getValue() },
    });
  }

  editor.onDidChangeModelContent((event) => {
    const model = editor.getModel();
    if (model === null || model.uri.toString() !== openUri) return;
    // Monaco's ranges refer to the text before the edit: send the last change first so
    // that applying them in order stays correct.
    const changes = [...event.changes]
      .sort((a, b) => b.rangeOffset - a.rangeOffset)
      .map((change) => ({
        range: {
          start: toLspPosition({ lineNumber: change.range.startLineNumber, column: change.range.startColumn }),
          end: toLspPosition({ lineNumber: change.range.endLineNumber, column: change.range.endColumn }),
        },
        text: change.text,
      }));
    version += 1;
    rpc.notify("textDocument/didChange", { textDocument: { uri: openUri, version }, contentChanges: changes });
  });

  select.addEventListener("change", () => {
    const example = examples.find((e) => e.name === select.value);
    if (example) openExample(example);
    editor.focus();
  });
  const first = examples.find((e) => e.name === "python/textstats.py") ?? examples[0];
  if (first) {
    select.value = first.name;
    openExample(first);
  }

  // --- ghost text ---
  // Accepting an item runs its command: tell the server (copilot.accepted) over our connection.
  monaco.editor.registerCommand(SERVER_COMMAND, (_accessor, command: string, args?: unknown[]) => {
    rpc.request("workspace/executeCommand", executeCommandParams(command, args)).catch((error) => {
      messageElement.textContent = `${command} failed: ${error}`;
    });
  });
  monaco.languages.registerInlineCompletionsProvider(LANGUAGES, {
    async provideInlineCompletions(model, position, context, token) {
      if (model.uri.toString() !== openUri) return { items: [] };
      if (!(await sleep(DEBOUNCE_MS, token))) return { items: [] };
      const started = performance.now();
      playground.inFlight += 1;
      showStatus();
      try {
        const result = await rpc.request<{ items: LspItem[] } | LspItem[] | null>(
          "textDocument/inlineCompletion",
          {
            textDocument: { uri: openUri },
            position: toLspPosition(position),
            context: {
              // Monaco: 0 automatic, 1 explicit; LSP: 1 invoked, 2 automatic.
              triggerKind: context.triggerKind === monaco.languages.InlineCompletionTriggerKind.Explicit ? 1 : 2,
            },
          },
          { onCancel: (listener) => token.onCancellationRequested(listener) },
        );
        const items = (Array.isArray(result) ? result : result?.items) ?? [];
        lastLatency = performance.now() - started;
        playground.lastCompletion = { items, latencyMs: lastLatency };
        return { items: toInlineCompletions(items, toMonacoRange) };
      } catch (error) {
        if (!(error instanceof RpcError && error.code === REQUEST_CANCELLED)) {
          messageElement.textContent = `completion failed: ${error}`;
        }
        return { items: [] };
      } finally {
        playground.inFlight -= 1;
        showStatus();
      }
    },
    freeInlineCompletions() {},
  });

  // --- model / latency indicator ---
  async function pollStatus(): Promise<void> {
    try {
      playground.status = await rpc.request<Status>("copilot/status", {});
      showStatus();
    } catch {
      return; // connection closed: onClose shows it
    }
    const settled = playground.status.state === "ready" || playground.status.state === "failed";
    setTimeout(pollStatus, settled ? 5000 : 500);
  }
  void pollStatus();
  editor.focus();
}

main().catch((error) => {
  messageElement.textContent = `playground failed to start: ${error}`;
  statusElement.dataset.state = "failed";
});
