// Pure: what the status bar item says for a server status.

/** The server's `copilot/status` answer (fields we use). */
export interface ServerStatus {
  state: string;
  model?: string;
  backend?: string;
  error?: string | null;
  loadSeconds?: number | null;
}

export interface StatusView {
  text: string;
  tooltip: string;
  /** A theme color id for the background, or undefined for the default. */
  background?: "statusBarItem.errorBackground" | "statusBarItem.warningBackground";
}

export interface ClientState {
  enabled: boolean;
  /** Undefined while the server is not running or has not answered yet. */
  server?: ServerStatus;
  starting: boolean;
  busy: number;
  lastLatencyMs?: number;
  stopped?: string;
}

export function statusView(state: ClientState): StatusView {
  const help = "Click to turn ghost text on or off. Commands: copilot-lsp: Show Log / Restart Server.";
  if (!state.enabled) {
    return { text: "$(circle-slash) copilot off", tooltip: `copilot-lsp is turned off. ${help}` };
  }
  if (state.stopped !== undefined) {
    return {
      text: "$(error) copilot",
      tooltip: `copilot-lsp server stopped: ${state.stopped}. Run "copilot-lsp: Restart Server".`,
      background: "statusBarItem.errorBackground",
    };
  }
  const server = state.server;
  if (state.starting || server === undefined) {
    return { text: "$(loading~spin) copilot", tooltip: `Starting the copilot-lsp server. ${help}` };
  }
  const model = server.model ?? "?";
  if (server.state === "failed") {
    return {
      text: "$(error) copilot",
      tooltip: `Model ${model} failed to load: ${server.error ?? "unknown error"}`,
      background: "statusBarItem.errorBackground",
    };
  }
  if (server.state !== "ready") {
    return { text: `$(loading~spin) copilot ${model}`, tooltip: `Loading model ${model}… ${help}` };
  }
  const latency = state.lastLatencyMs === undefined ? "" : ` ${formatLatency(state.lastLatencyMs)}`;
  const loaded = server.loadSeconds ? `, loaded in ${server.loadSeconds.toFixed(1)} s` : "";
  if (state.busy > 0) {
    return { text: `$(sync~spin) copilot ${model}${latency}`, tooltip: `Generating… model ${model}${loaded}. ${help}` };
  }
  return {
    text: `$(sparkle) copilot ${model}${latency}`,
    tooltip: `Ready: model ${model} (${server.backend ?? "?"})${loaded}; last suggestion took${latency || " -"}. ${help}`,
  };
}

export function formatLatency(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
