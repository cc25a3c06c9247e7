import { describe, expect, it } from "vitest";
import { formatLatency, statusView } from "../src/status";

const ready = { state: "ready", model: "fast", backend: "llamacpp", loadSeconds: 1.5 };

describe("statusView", () => {
  it("shows starting, loading, ready with latency, busy and failed", () => {
    expect(statusView({ enabled: true, starting: true, busy: 0 }).text).toBe("$(loading~spin) copilot");
    expect(statusView({ enabled: true, starting: false, busy: 0, server: { state: "loading", model: "fast" } }).text).toBe(
      "$(loading~spin) copilot fast",
    );
    const idle = statusView({ enabled: true, starting: false, busy: 0, server: ready, lastLatencyMs: 812.4 });
    expect(idle.text).toBe("$(sparkle) copilot fast 812 ms");
    expect(idle.tooltip).toContain("loaded in 1.5 s");
    expect(idle.background).toBeUndefined();
    expect(statusView({ enabled: true, starting: false, busy: 1, server: ready }).text).toBe("$(sync~spin) copilot fast");
    const failed = statusView({
      enabled: true,
      starting: false,
      busy: 0,
      server: { state: "failed", model: "/x.gguf", error: "no such file" },
    });
    expect(failed.text).toBe("$(error) copilot");
    expect(failed.tooltip).toContain("no such file");
    expect(failed.background).toBe("statusBarItem.errorBackground");
  });

  it("says off when toggled off and stopped when the server died", () => {
    expect(statusView({ enabled: false, starting: false, busy: 0, server: ready }).text).toContain("off");
    const stopped = statusView({ enabled: true, starting: false, busy: 0, stopped: "the server exited" });
    expect(stopped.tooltip).toContain("the server exited");
  });
});

describe("formatLatency", () => {
  it("uses ms below a second and seconds above", () => {
    expect(formatLatency(12.3)).toBe("12 ms");
    expect(formatLatency(2345)).toBe("2.3 s");
  });
});
