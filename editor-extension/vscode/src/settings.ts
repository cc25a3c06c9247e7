// Pure settings logic: what the user configured -> how to launch the server and which
// initializationOptions to send. No `vscode` import here, so it is unit-tested directly.

/** Settings passed on to the server as they are: text values, then numbers. */
const SERVER_TEXT_KEYS = ["model", "backend", "serverUrl"] as const;
const SERVER_NUMBER_KEYS = [
  "maxNewTokens",
  "temperature",
  "contextWindow",
  "threads",
  "promptTokens",
  "typingPromptTokens",
] as const;

/** The names of the extension's `copilot.*` settings. */
export const SETTING_KEYS = [
  "enable",
  "pythonPath",
  "serverArgs",
  ...SERVER_TEXT_KEYS,
  ...SERVER_NUMBER_KEYS,
  "debounceMs",
] as const;

/** The `copilot.*` settings as VS Code hands them over (any may be missing or mistyped). */
export type RawSettings = { [key in (typeof SETTING_KEYS)[number]]?: unknown };

export interface LaunchSpec {
  command: string;
  args: string[];
}

type ServerTextKey = (typeof SERVER_TEXT_KEYS)[number];
type ServerNumberKey = (typeof SERVER_NUMBER_KEYS)[number];

/** Settings that only need a `workspace/didChangeConfiguration`, not a restart. */
export type ServerOptions = { [key in ServerTextKey]?: string } & { [key in ServerNumberKey]?: number };

/**
 * Every server setting, for `workspace/didChangeConfiguration`: `null` where unset or empty,
 * which tells the server to go back to its default (it merges settings over its current ones,
 * so a left-out key would keep the old value).
 */
export type ServerSettingsChange = { [key in ServerTextKey]: string | null } & {
  [key in ServerNumberKey]: number | null;
};

export const DEFAULT_DEBOUNCE_MS = 150;

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function number(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/**
 * How to start `copilot-lsp serve`: with the configured interpreter (`python -m copilot_lsp`),
 * else the `copilot-lsp` script on PATH, else `python3 -m copilot_lsp` from PATH.
 */
export function launchSpec(raw: RawSettings, which: (program: string) => string | undefined): LaunchSpec {
  const extra = Array.isArray(raw.serverArgs) ? raw.serverArgs.filter((a): a is string => typeof a === "string") : [];
  const python = text(raw.pythonPath);
  if (python !== undefined) {
    return { command: python, args: ["-m", "copilot_lsp", "serve", ...extra] };
  }
  const script = which("copilot-lsp");
  if (script !== undefined) {
    return { command: script, args: ["serve", ...extra] };
  }
  const found = which("python3") ?? which("python") ?? "python3";
  return { command: found, args: ["-m", "copilot_lsp", "serve", ...extra] };
}

/**
 * The server's settings (sent as initializationOptions and on change). Only values the user
 * set are sent: the server owns the defaults and validates; it reports bad values itself.
 */
export function serverOptions(raw: RawSettings): ServerOptions {
  const options: ServerOptions = {};
  for (const key of SERVER_TEXT_KEYS) {
    const value = text(raw[key]);
    if (value !== undefined) options[key] = value;
  }
  for (const key of SERVER_NUMBER_KEYS) {
    const value = number(raw[key]);
    if (value !== undefined) options[key] = value;
  }
  return options;
}

/** All server settings with `null` for those unset or empty (see ServerSettingsChange). */
export function serverSettingsChange(options: ServerOptions): ServerSettingsChange {
  const change = {} as ServerSettingsChange;
  for (const key of SERVER_TEXT_KEYS) change[key] = options[key] ?? null;
  for (const key of SERVER_NUMBER_KEYS) change[key] = options[key] ?? null;
  return change;
}

/** Whether ghost text is wanted for `languageId`: `copilot.enable` maps ids (or "*") to booleans. */
export function enabledFor(raw: RawSettings, languageId: string): boolean {
  const table = raw.enable;
  if (typeof table === "boolean") return table;
  if (table === null || typeof table !== "object") return true;
  const entries = table as Record<string, unknown>;
  if (typeof entries[languageId] === "boolean") return entries[languageId] as boolean;
  if (typeof entries["*"] === "boolean") return entries["*"] as boolean;
  return true;
}

export function debounceMs(raw: RawSettings): number {
  const value = number(raw.debounceMs);
  return value !== undefined && value >= 0 ? Math.min(value, 5000) : DEFAULT_DEBOUNCE_MS;
}

export function sameLaunch(a: LaunchSpec, b: LaunchSpec): boolean {
  return a.command === b.command && a.args.length === b.args.length && a.args.every((arg, i) => arg === b.args[i]);
}

export function sameOptions(a: ServerOptions, b: ServerOptions): boolean {
  return [...SERVER_TEXT_KEYS, ...SERVER_NUMBER_KEYS].every((key) => a[key] === b[key]);
}
