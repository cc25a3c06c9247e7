import { describe, expect, it } from "vitest";
import {
  DEFAULT_DEBOUNCE_MS,
  debounceMs,
  enabledFor,
  launchSpec,
  sameLaunch,
  sameOptions,
  serverOptions,
  serverSettingsChange,
} from "../src/settings";

const nowhere = () => undefined;

describe("launchSpec", () => {
  it("runs the configured interpreter as a module", () => {
    expect(launchSpec({ pythonPath: " /venv/bin/python " }, nowhere)).toEqual({
      command: "/venv/bin/python",
      args: ["-m", "copilot_lsp", "serve"],
    });
  });

  it("prefers the copilot-lsp script on PATH when no interpreter is set", () => {
    const which = (program: string) => (program === "copilot-lsp" ? "/usr/local/bin/copilot-lsp" : "/usr/bin/python3");
    expect(launchSpec({ pythonPath: "" }, which)).toEqual({ command: "/usr/local/bin/copilot-lsp", args: ["serve"] });
  });

  it("falls back to python3 from PATH, then to the bare name", () => {
    const which = (program: string) => (program === "python3" ? "/usr/bin/python3" : undefined);
    expect(launchSpec({}, which).command).toBe("/usr/bin/python3");
    expect(launchSpec({}, nowhere)).toEqual({ command: "python3", args: ["-m", "copilot_lsp", "serve"] });
  });

  it("appends string server arguments and drops others", () => {
    const spec = launchSpec({ pythonPath: "py", serverArgs: ["--log-level", 3, "DEBUG"] }, nowhere);
    expect(spec.args).toEqual(["-m", "copilot_lsp", "serve", "--log-level", "DEBUG"]);
  });

  it("compares launches by command and arguments", () => {
    const a = launchSpec({ pythonPath: "py" }, nowhere);
    expect(sameLaunch(a, launchSpec({ pythonPath: "py" }, nowhere))).toBe(true);
    expect(sameLaunch(a, launchSpec({ pythonPath: "py", serverArgs: ["-v"] }, nowhere))).toBe(false);
  });
});

describe("serverOptions", () => {
  it("maps VS Code settings to the server's names", () => {
    expect(
      serverOptions({
        model: "fast",
        backend: "llamacpp",
        serverUrl: "http://127.0.0.1:8080",
        maxNewTokens: 64,
        temperature: 0.2,
        contextWindow: 2048,
        threads: 2,
        promptTokens: 1536,
        typingPromptTokens: 768,
        debounceMs: 99,
        pythonPath: "/x",
      }),
    ).toEqual({
      model: "fast",
      backend: "llamacpp",
      serverUrl: "http://127.0.0.1:8080",
      maxNewTokens: 64,
      temperature: 0.2,
      contextWindow: 2048,
      threads: 2,
      promptTokens: 1536,
      typingPromptTokens: 768,
    });
  });

  it("leaves out empty and mistyped values so the server keeps its defaults", () => {
    expect(serverOptions({ model: "  ", serverUrl: "", maxNewTokens: "64", temperature: Number.NaN })).toEqual({});
  });

  it("sees a cleared setting as a change", () => {
    expect(sameOptions({ serverUrl: "http://x" }, {})).toBe(false);
    expect(sameOptions({ model: "fast", threads: 2 }, { threads: 2, model: "fast" })).toBe(true);
  });
});

describe("serverSettingsChange", () => {
  it("names every server setting, null where unset or empty (the server's default)", () => {
    expect(serverSettingsChange(serverOptions({ model: "fast", serverUrl: "  ", maxNewTokens: 64 }))).toEqual({
      model: "fast",
      backend: null,
      serverUrl: null,
      maxNewTokens: 64,
      temperature: null,
      contextWindow: null,
      threads: null,
      promptTokens: null,
      typingPromptTokens: null,
    });
  });
});

describe("enabledFor", () => {
  const table = { enable: { "*": true, markdown: false } };
  it("reads the language, then '*'", () => {
    expect(enabledFor(table, "python")).toBe(true);
    expect(enabledFor(table, "markdown")).toBe(false);
    expect(enabledFor({ enable: { "*": false, go: true } }, "go")).toBe(true);
    expect(enabledFor({ enable: { "*": false, go: true } }, "rust")).toBe(false);
  });
  it("accepts a plain boolean and defaults to on", () => {
    expect(enabledFor({ enable: false }, "python")).toBe(false);
    expect(enabledFor({}, "python")).toBe(true);
    expect(enabledFor({ enable: "yes" }, "python")).toBe(true);
  });
});

describe("debounceMs", () => {
  it("clamps and defaults", () => {
    expect(debounceMs({ debounceMs: 300 })).toBe(300);
    expect(debounceMs({ debounceMs: 0 })).toBe(0);
    expect(debounceMs({ debounceMs: 999999 })).toBe(5000);
    expect(debounceMs({ debounceMs: -1 })).toBe(DEFAULT_DEBOUNCE_MS);
    expect(debounceMs({})).toBe(DEFAULT_DEBOUNCE_MS);
  });
});
