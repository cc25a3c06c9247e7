// Entry point: wires the `vscode` API and vscode-languageclient to the Controller.
import * as vscode from "vscode";
import {
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions as LaunchOptions,
  State,
} from "vscode-languageclient/node";
import { type ClientFactory, Controller, GENERATE_TESTS, debounce } from "./controller";
import { createHost } from "./vscodeHost";

let controller: Controller | undefined;

const createClient =
  (output: vscode.LogOutputChannel, onStopped: (reason: string) => void, onRunning: () => void): ClientFactory =>
  (launch, options, hooks) => {
    // No `transport`: with TransportKind.stdio the client appends `--stdio` to the
    // arguments, which `copilot-lsp serve` rejects; stdio is the default anyway.
    const serverOptions: LaunchOptions = { command: launch.command, args: launch.args };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
      initializationOptions: options,
      outputChannel: output,
      middleware: {
        async provideInlineCompletionItems(document, position, context, token, next) {
          if (!hooks.wanted(document.languageId)) return undefined;
          const go = await debounce(
            hooks.debounceMs(),
            () => token.isCancellationRequested,
            (listener) => token.onCancellationRequested(listener),
            (callback, ms) => {
              const handle = setTimeout(callback, ms);
              return { dispose: () => clearTimeout(handle) };
            },
          );
          if (!go) return undefined;
          const started = Date.now();
          hooks.started();
          let latency: number | undefined;
          try {
            const result = await next(document, position, context, token);
            if (!token.isCancellationRequested) latency = Date.now() - started;
            return result;
          } finally {
            hooks.finished(latency);
          }
        },
        executeCommand(command, args, next) {
          // The palette passes no arguments: send the active editor's location instead.
          return next(command, controller?.commandArguments(args) ?? args);
        },
      },
    };
    const client = new LanguageClient("copilot-lsp", "copilot-lsp", serverOptions, clientOptions);
    client.registerProposedFeatures();
    client.onDidChangeState((event) => {
      if (event.oldState === State.Running && event.newState === State.Stopped) onStopped("the server exited");
      // Running again after a crash: vscode-languageclient restarted the server by itself.
      if (event.newState === State.Running) onRunning();
    });
    return {
      start: () => client.start(),
      stop: () => client.stop(),
      sendRequest: (method, params) => client.sendRequest(method, params),
      sendNotification: (method, params) => client.sendNotification(method, params),
      showLog: () => client.outputChannel.show(true),
      serverCommands: () => client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [],
    };
  };

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("copilot-lsp", { log: true });
  const item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  item.command = "copilot.toggle";
  item.show();
  const host = createHost(item);
  const current = new Controller(
    host,
    createClient(
      output,
      (reason) => current.serverStopped(reason),
      () => current.serverRunning(),
    ),
  );
  controller = current;
  context.subscriptions.push(
    output,
    item,
    vscode.commands.registerCommand("copilot.toggle", () => current.toggle()),
    vscode.commands.registerCommand("copilot.showLog", () => current.showLog()),
    vscode.commands.registerCommand("copilot.restart", () => current.restart()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("copilot")) void current.settingsChanged();
    }),
  );
  await current.start();
  // vscode-languageclient registers the server's own commands (copilot.generateTests among
  // them); only when the server does not offer it do we answer the palette ourselves.
  if (!(await vscode.commands.getCommands(true)).includes(GENERATE_TESTS)) {
    context.subscriptions.push(vscode.commands.registerCommand(GENERATE_TESTS, () => current.generateTests()));
  }
}

export async function deactivate(): Promise<void> {
  await controller?.dispose();
  controller = undefined;
}
