// Fakes for the Host and ServerClient interfaces: what the real vscode API would do,
// recorded so tests can assert on it.
import type { CompletionHooks, EditorLocation, Host, ServerClient } from "../src/controller";
import type { LaunchSpec, RawSettings, ServerOptions } from "../src/settings";
import type { StatusView } from "../src/status";

export class FakeHost implements Host {
  current: RawSettings = { model: "fast" };
  statuses: StatusView[] = [];
  errors: string[] = [];
  infos: string[] = [];
  location: EditorLocation | undefined;
  timers: { callback: () => void; ms: number; disposed: boolean }[] = [];

  settings(): RawSettings {
    return this.current;
  }
  which(program: string): string | undefined {
    return program === "python3" ? "/usr/bin/python3" : undefined;
  }
  setStatus(view: StatusView): void {
    this.statuses.push(view);
  }
  showError(message: string): void {
    this.errors.push(message);
  }
  showInfo(message: string): void {
    this.infos.push(message);
  }
  activeLocation(): EditorLocation | undefined {
    return this.location;
  }
  setTimer(callback: () => void, ms: number): { dispose(): void } {
    const timer = { callback, ms, disposed: false };
    this.timers.push(timer);
    return { dispose: () => (timer.disposed = true) };
  }
  get lastStatus(): StatusView {
    return this.statuses[this.statuses.length - 1];
  }
}

export class FakeClient implements ServerClient {
  started = 0;
  stopped = 0;
  requests: { method: string; params: unknown }[] = [];
  notifications: { method: string; params: unknown }[] = [];
  logShown = 0;
  commands: string[] = [];
  status: Record<string, unknown> = { state: "loading", model: "fast" };
  failStart: Error | undefined;

  constructor(
    readonly launch: LaunchSpec,
    readonly options: ServerOptions,
    readonly hooks: CompletionHooks,
  ) {}

  async start(): Promise<void> {
    this.started += 1;
    if (this.failStart) throw this.failStart;
  }
  async stop(): Promise<void> {
    this.stopped += 1;
  }
  async sendRequest<R>(method: string, params: unknown): Promise<R> {
    this.requests.push({ method, params });
    if (method === "copilot/status") return this.status as R;
    return { ok: true } as R;
  }
  async sendNotification(method: string, params: unknown): Promise<void> {
    this.notifications.push({ method, params });
  }
  showLog(): void {
    this.logShown += 1;
  }
  serverCommands(): string[] {
    return this.commands;
  }
}

/** A factory that records every client it makes. */
export function recordingFactory(configure: (client: FakeClient) => void = () => {}) {
  const clients: FakeClient[] = [];
  const factory = (launch: LaunchSpec, options: ServerOptions, hooks: CompletionHooks) => {
    const client = new FakeClient(launch, options, hooks);
    configure(client);
    clients.push(client);
    return client;
  };
  return { clients, factory };
}
