// The extension's behaviour, written against small interfaces (Host, ServerClient) instead
// of the `vscode` module, so unit tests drive it with fakes. extension.ts wires the real API.
import {
  type LaunchSpec,
  type RawSettings,
  type ServerOptions,
  debounceMs,
  enabledFor,
  launchSpec,
  sameLaunch,
  sameOptions,
  serverOptions,
  serverSettingsChange,
} from "./settings";
import { type ClientState, type ServerStatus, type StatusView, statusView } from "./status";

export const STATUS_REQUEST = "copilot/status";
export const GENERATE_TESTS = "copilot.generateTests";

/** What the editor offers the extension (implemented over `vscode` in vscodeHost.ts). */
export interface Host {
  settings(): RawSettings;
  which(program: string): string | undefined;
  setStatus(view: StatusView): void;
  showError(message: string): void;
  showInfo(message: string): void;
  /** The active editor's document and cursor, for commands that act "here". */
  activeLocation(): EditorLocation | undefined;
  setTimer(callback: () => void, ms: number): { dispose(): void };
}

export interface EditorLocation {
  uri: string;
  languageId: string;
  position: { line: number; character: number };
  selection: { start: { line: number; character: number }; end: { line: number; character: number } };
}

/** The slice of vscode-languageclient's LanguageClient the controller uses. */
export interface ServerClient {
  start(): Promise<void>;
  stop(): Promise<void>;
  sendRequest<R>(method: string, params: unknown): Promise<R>;
  sendNotification(method: string, params: unknown): Promise<void>;
  showLog(): void;
  /** Commands the server listed in executeCommandProvider. */
  serverCommands(): string[];
}

/** Hooks the controller gives the client factory: they run around every inline request. */
export interface CompletionHooks {
  /** False when ghost text is off (globally or for this language). */
  wanted(languageId: string): boolean;
  debounceMs(): number;
  started(): void;
  finished(latencyMs: number | undefined): void;
}

export type ClientFactory = (launch: LaunchSpec, options: ServerOptions, hooks: CompletionHooks) => ServerClient;

export class Controller {
  private client: ServerClient | undefined;
  private launch: LaunchSpec | undefined;
  private options: ServerOptions = {};
  private poll: { dispose(): void } | undefined;
  private disposed = false;
  /** start/stop/restart/settingsChanged run one at a time, in order, on this chain. */
  private queue: Promise<void> = Promise.resolve();
  readonly state: ClientState = { enabled: true, starting: false, busy: 0 };

  constructor(
    private readonly host: Host,
    private readonly createClient: ClientFactory,
    private readonly now: () => number = () => Date.now(),
  ) {}

  private readonly hooks: CompletionHooks = {
    wanted: (languageId) => this.state.enabled && enabledFor(this.host.settings(), languageId),
    debounceMs: () => debounceMs(this.host.settings()),
    started: () => {
      this.state.busy += 1;
      this.render();
    },
    finished: (latencyMs) => {
      this.state.busy = Math.max(0, this.state.busy - 1);
      if (latencyMs !== undefined) this.state.lastLatencyMs = latencyMs;
      this.render();
    },
  };

  /** Run `task` after every earlier lifecycle task: at most one client is ever alive. */
  private serialised(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => {});
    return run;
  }

  start(): Promise<void> {
    return this.serialised(() => this.startNow());
  }

  stop(): Promise<void> {
    return this.serialised(() => this.stopNow());
  }

  restart(): Promise<void> {
    return this.serialised(() => this.restartNow());
  }

  /** Settings changed: restart for a new launch command, otherwise tell the running server. */
  settingsChanged(): Promise<void> {
    return this.serialised(() => this.applySettings());
  }

  private async startNow(): Promise<void> {
    if (this.disposed) return;
    const settings = this.host.settings();
    this.launch = launchSpec(settings, (program) => this.host.which(program));
    this.options = serverOptions(settings);
    this.state.starting = true;
    this.state.server = undefined;
    this.state.stopped = undefined;
    this.render();
    const client = this.createClient(this.launch, this.options, this.hooks);
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      if (this.client !== client) return; // restarted meanwhile
      this.client = undefined;
      this.state.starting = false;
      this.state.stopped = `${this.launch.command} ${this.launch.args.join(" ")}: ${String(error)}`;
      this.render();
      this.host.showError(
        `copilot-lsp: cannot start the server (${this.state.stopped}). Set "copilot.pythonPath" to an interpreter with copilot-lsp installed.`,
      );
      return;
    }
    this.state.starting = false;
    this.render();
    void this.refreshStatus();
  }

  private async stopNow(): Promise<void> {
    this.poll?.dispose();
    this.poll = undefined;
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      try {
        await client.stop();
      } catch {
        // already gone
      }
    }
  }

  private async restartNow(): Promise<void> {
    await this.stopNow();
    await this.startNow();
  }

  private async applySettings(): Promise<void> {
    if (this.disposed) return;
    const settings = this.host.settings();
    const launch = launchSpec(settings, (program) => this.host.which(program));
    const options = serverOptions(settings);
    if (this.client === undefined || this.launch === undefined || !sameLaunch(launch, this.launch)) {
      await this.restartNow();
      return;
    }
    if (!sameOptions(options, this.options)) {
      this.options = options;
      // Unset settings go as null (back to the server's default): the server merges what it
      // gets over its current settings, so leaving a cleared one out would keep the old value.
      await this.client.sendNotification("workspace/didChangeConfiguration", {
        settings: serverSettingsChange(options),
      });
      void this.refreshStatus();
    }
    this.render();
  }

  toggle(): void {
    this.state.enabled = !this.state.enabled;
    this.render();
    this.host.showInfo(`copilot-lsp: ghost text ${this.state.enabled ? "on" : "off"}`);
  }

  showLog(): void {
    if (this.client === undefined) {
      this.host.showInfo("copilot-lsp: the server is not running");
      return;
    }
    this.client.showLog();
  }

  /**
   * Forward `copilot.generateTests` to the server (workspace/executeCommand) with the active
   * editor's location when the caller passed no arguments (the command palette passes none).
   */
  async generateTests(args: unknown[] = []): Promise<unknown> {
    const client = this.client;
    if (client === undefined) {
      this.host.showError("copilot-lsp: the server is not running");
      return undefined;
    }
    if (!client.serverCommands().includes(GENERATE_TESTS)) {
      this.host.showError("copilot-lsp: this server version cannot generate tests");
      return undefined;
    }
    return client.sendRequest("workspace/executeCommand", {
      command: GENERATE_TESTS,
      arguments: this.commandArguments(args),
    });
  }

  /** The arguments to send with a server command: the caller's, else "here". */
  commandArguments(args: unknown[]): unknown[] {
    if (args.length > 0) return args;
    const here = this.host.activeLocation();
    if (here === undefined) return [];
    return [{ textDocument: { uri: here.uri }, position: here.position, range: here.selection }];
  }

  /** Ask the server for copilot/status; poll fast while loading, slowly once settled. */
  async refreshStatus(): Promise<void> {
    this.poll?.dispose();
    this.poll = undefined;
    const client = this.client;
    if (client === undefined || this.disposed) return;
    let settled = false;
    try {
      const status = await client.sendRequest<ServerStatus>(STATUS_REQUEST, {});
      if (this.client !== client) return;
      this.state.server = status;
      settled = status.state === "ready" || status.state === "failed";
    } catch {
      if (this.client !== client) return;
    }
    this.render();
    if (!this.disposed) this.poll = this.host.setTimer(() => void this.refreshStatus(), settled ? 10000 : 1000);
  }

  /** The server process ended without being asked to. */
  serverStopped(reason: string): void {
    this.state.stopped = reason;
    this.render();
  }

  /**
   * The client reached Running outside start(): vscode-languageclient restarted a crashed
   * server by itself. The server is back, so clear "stopped" and ask it for its status.
   */
  serverRunning(): void {
    if (this.disposed || this.client === undefined || this.state.starting) return;
    this.state.stopped = undefined;
    this.render();
    void this.refreshStatus();
  }

  render(): void {
    this.host.setStatus(statusView(this.state));
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.serialised(() => this.stopNow());
  }
}

/**
 * Delay a request by `ms`, giving up when `cancelled()` turns true meanwhile: typing fast
 * cancels the previous request before it reaches the server.
 */
export function debounce(
  ms: number,
  cancelled: () => boolean,
  onCancel: (listener: () => void) => void,
  setTimer: (callback: () => void, ms: number) => { dispose(): void },
): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(!cancelled());
  return new Promise((resolve) => {
    const timer = setTimer(() => resolve(!cancelled()), ms);
    onCancel(() => {
      timer.dispose();
      resolve(false);
    });
  });
}
