// A stand-in for the `vscode` module, just enough for vscode-languageclient and the
// extension to run in Node: real classes where values matter (Uri, Position, Range, events,
// cancellation, inline completion items), recorders for registrations, and an inert
// catch-all for the rest of the API surface the client touches but this test does not use.
"use strict";
const { pathToFileURL, fileURLToPath } = require("node:url");

function inert() {
  const target = function () {};
  return new Proxy(target, {
    get: (_, key) => (key === "then" ? undefined : key === Symbol.iterator ? [][Symbol.iterator] : inert()),
    apply: () => inert(),
    construct: () => inert(),
  });
}

class Disposable {
  constructor(callback = () => {}) {
    this.callback = callback;
  }
  static from(...items) {
    return new Disposable(() => items.forEach((item) => item?.dispose?.()));
  }
  dispose() {
    this.callback();
  }
}

class EventEmitter {
  constructor() {
    this.listeners = new Set();
    this.event = (listener, thisArg) => {
      const bound = listener.bind(thisArg);
      this.listeners.add(bound);
      return new Disposable(() => this.listeners.delete(bound));
    };
  }
  fire(value) {
    for (const listener of [...this.listeners]) listener(value);
  }
  dispose() {
    this.listeners.clear();
  }
}

class Uri {
  constructor(scheme, fsPath, text) {
    this.scheme = scheme;
    this.fsPath = fsPath;
    this.path = fsPath;
    this.text = text;
  }
  static file(path) {
    return new Uri("file", path, pathToFileURL(path).toString());
  }
  static parse(text) {
    const scheme = text.slice(0, text.indexOf(":"));
    return new Uri(scheme, scheme === "file" ? fileURLToPath(text) : text, text);
  }
  toString() {
    return this.text;
  }
  toJSON() {
    return this.text;
  }
}

class Position {
  constructor(line, character) {
    this.line = line;
    this.character = character;
  }
}

class Range {
  constructor(a, b, c, d) {
    [this.start, this.end] = typeof a === "number" ? [new Position(a, b), new Position(c, d)] : [a, b];
  }
}

class CancellationTokenSource {
  constructor() {
    const emitter = new EventEmitter();
    this.token = { isCancellationRequested: false, onCancellationRequested: emitter.event };
    this.cancel = () => {
      this.token.isCancellationRequested = true;
      emitter.fire();
    };
    this.dispose = () => emitter.dispose();
  }
}

class InlineCompletionItem {
  constructor(insertText, range, command) {
    Object.assign(this, { insertText, range, command });
  }
}

class InlineCompletionList {
  constructor(items) {
    this.items = items;
  }
}

class TextDocument {
  constructor(path, languageId, text) {
    Object.assign(this, { uri: Uri.file(path), fileName: path, languageId, version: 1, text });
    this.isUntitled = false;
    this.isClosed = false;
  }
  getText() {
    return this.text;
  }
  get lineCount() {
    return this.text.split("\n").length;
  }
  positionAt(offset) {
    const before = this.text.slice(0, offset).split("\n");
    return new Position(before.length - 1, before[before.length - 1].length);
  }
  offsetAt(position) {
    const lines = this.text.split("\n");
    return lines.slice(0, position.line).reduce((sum, line) => sum + line.length + 1, 0) + position.character;
  }
}

function createStub(initialSettings) {
  const settings = { ...initialSettings };
  const documents = [];
  const configurationChanged = new EventEmitter();
  const logLines = [];
  // Everything the extension logs; echoed to stderr as it comes with TRACE set.
  const log = (text) => {
    logLines.push(text);
    if (process.env.TRACE) process.stderr.write(`${text}\n`);
  };
  const stub = {
    version: "1.95.0",
    logLines,
    commandHandlers: new Map(),
    inlineProviders: [],
    codeActionProviders: [],
    statusItem: undefined,
    Disposable,
    EventEmitter,
    Uri,
    Position,
    Range,
    CancellationTokenSource,
    CancellationError: class CancellationError extends Error {},
    InlineCompletionItem,
    InlineCompletionList,
    InlineCompletionTriggerKind: { Invoke: 0, Automatic: 1 },
    LogLevel: { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5 },
    StatusBarAlignment: { Left: 1, Right: 2 },
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    ThemeColor: class ThemeColor {
      constructor(id) {
        this.id = id;
      }
    },
    env: { language: "en", appName: "vscode-stub", openExternal: async () => true },
    openDocument(path, languageId, text) {
      const document = new TextDocument(path, languageId, text);
      documents.push(document);
      return document;
    },
    setSetting(key, value) {
      settings[key] = value;
      configurationChanged.fire({ affectsConfiguration: (section) => section === "copilot" || section === `copilot.${key}` });
    },
    window: {
      createOutputChannel: (name) => ({
        name,
        append: (text) => log(text),
        appendLine: (text) => log(text),
        logLevel: 1,
        onDidChangeLogLevel: new EventEmitter().event,
        trace: (text) => log(`[trace] ${text}`),
        debug: (text) => log(`[debug] ${text}`),
        info: (text) => log(`[info] ${text}`),
        warn: (text) => log(`[warn] ${text}`),
        error: (text) => log(`[error] ${text instanceof Error ? text.message : text}`),
        replace: () => {},
        clear: () => {},
        show: () => {},
        hide: () => {},
        dispose: () => {},
      }),
      createStatusBarItem: () => {
        stub.statusItem = { text: "", tooltip: "", show() {}, hide() {}, dispose() {} };
        return stub.statusItem;
      },
      showErrorMessage: async (message) => logLines.push(`[error message] ${message}`),
      showWarningMessage: async (message) => logLines.push(`[warning message] ${message}`),
      showInformationMessage: async (message) => logLines.push(`[info message] ${message}`),
      setStatusBarMessage: (message) => {
        logLines.push(`[status message] ${message}`);
        return new Disposable();
      },
      withProgress: async (_options, task) => task({ report: () => {} }, new CancellationTokenSource().token),
      activeTextEditor: undefined,
      visibleTextEditors: [],
      onDidChangeActiveTextEditor: new EventEmitter().event,
      onDidChangeVisibleTextEditors: new EventEmitter().event,
      tabGroups: { all: [], onDidChangeTabs: new EventEmitter().event },
    },
    workspace: {
      get textDocuments() {
        return documents;
      },
      workspaceFolders: undefined,
      notebookDocuments: [],
      getConfiguration: (section) => ({
        get: (key, fallback) => {
          const full = section ? `${section}.${key}` : key;
          if (full === "copilot-lsp.trace.server") return process.env.TRACE ?? fallback;
          const name = full.startsWith("copilot.") ? full.slice("copilot.".length) : undefined;
          return name !== undefined && name in settings ? settings[name] : fallback;
        },
        has: () => false,
        inspect: () => undefined,
        update: async () => {},
      }),
      onDidChangeConfiguration: configurationChanged.event,
      onDidOpenTextDocument: new EventEmitter().event,
      onDidCloseTextDocument: new EventEmitter().event,
      onDidChangeTextDocument: new EventEmitter().event,
      onDidSaveTextDocument: new EventEmitter().event,
      onWillSaveTextDocument: new EventEmitter().event,
      onDidChangeWorkspaceFolders: new EventEmitter().event,
      onDidOpenNotebookDocument: new EventEmitter().event,
      onDidCloseNotebookDocument: new EventEmitter().event,
      onDidChangeNotebookDocument: new EventEmitter().event,
      onDidSaveNotebookDocument: new EventEmitter().event,
      createFileSystemWatcher: () => inert(),
    },
    languages: {
      match: (selector, document) => {
        const list = Array.isArray(selector) ? selector : [selector];
        return list.some((entry) =>
          typeof entry === "string" ? entry === document.languageId : !entry.scheme || entry.scheme === document.uri.scheme,
        )
          ? 10
          : 0;
      },
      registerInlineCompletionItemProvider: (_selector, provider) => {
        stub.inlineProviders.unshift(provider);
        return new Disposable(() => stub.inlineProviders.splice(stub.inlineProviders.indexOf(provider), 1));
      },
      registerCodeActionsProvider: (_selector, provider) => {
        stub.codeActionProviders.push(provider);
        return new Disposable(() => stub.codeActionProviders.splice(stub.codeActionProviders.indexOf(provider), 1));
      },
      createDiagnosticCollection: () => inert(),
    },
    commands: {
      registerCommand: (id, handler) => {
        if (stub.commandHandlers.has(id)) throw new Error(`command '${id}' already exists`);
        stub.commandHandlers.set(id, handler);
        return new Disposable(() => stub.commandHandlers.delete(id));
      },
      executeCommand: async (id, ...args) => stub.commandHandlers.get(id)?.(...args),
      getCommands: async () => [...stub.commandHandlers.keys()],
    },
  };
  return new Proxy(stub, { get: (target, key) => (key in target ? target[key] : inert()) });
}

module.exports = { createStub };
