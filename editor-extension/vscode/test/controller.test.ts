import { describe, expect, it } from "vitest";
import { Controller, debounce } from "../src/controller";
import { FakeHost, recordingFactory } from "./fakes";

async function started(configure?: Parameters<typeof recordingFactory>[0]) {
  const host = new FakeHost();
  const { clients, factory } = recordingFactory(configure);
  const controller = new Controller(host, factory);
  await controller.start();
  await new Promise((resolve) => setTimeout(resolve, 0)); // let the first status poll land
  return { host, clients, controller };
}

describe("Controller", () => {
  it("starts the server with the resolved launch and the settings as initializationOptions", async () => {
    const { clients, host } = await started();
    expect(clients).toHaveLength(1);
    expect(clients[0].launch).toEqual({ command: "/usr/bin/python3", args: ["-m", "copilot_lsp", "serve"] });
    expect(clients[0].options).toEqual({ model: "fast" });
    expect(clients[0].requests[0].method).toBe("copilot/status");
    expect(host.lastStatus.text).toBe("$(loading~spin) copilot fast");
    // Still loading: poll again soon.
    expect(host.timers.at(-1)?.ms).toBe(1000);
  });

  it("polls slowly once the model is ready and shows the model", async () => {
    const { host, clients, controller } = await started();
    clients[0].status = { state: "ready", model: "fast", backend: "llamacpp" };
    await controller.refreshStatus();
    expect(host.lastStatus.text).toBe("$(sparkle) copilot fast");
    expect(host.timers.at(-1)?.ms).toBe(10000);
    expect(host.timers.slice(0, -1).every((timer) => timer.disposed)).toBe(true);
  });

  it("shows busy while a request runs and the latency after it", async () => {
    const { host, clients, controller } = await started();
    clients[0].status = { state: "ready", model: "fast" };
    await controller.refreshStatus();
    clients[0].hooks.started();
    expect(host.lastStatus.text).toBe("$(sync~spin) copilot fast");
    clients[0].hooks.finished(1530);
    expect(host.lastStatus.text).toBe("$(sparkle) copilot fast 1.5 s");
    clients[0].hooks.started();
    clients[0].hooks.finished(undefined); // cancelled: keep the last real latency
    expect(host.lastStatus.text).toBe("$(sparkle) copilot fast 1.5 s");
  });

  it("tells the running server about changed model settings without a restart", async () => {
    const { host, clients, controller } = await started();
    host.current = { model: "quality", maxNewTokens: 64 };
    await controller.settingsChanged();
    expect(clients).toHaveLength(1);
    expect(clients[0].notifications).toEqual([
      {
        method: "workspace/didChangeConfiguration",
        params: {
          settings: {
            model: "quality",
            backend: null,
            serverUrl: null,
            maxNewTokens: 64,
            temperature: null,
            contextWindow: null,
            threads: null,
            promptTokens: null,
            typingPromptTokens: null,
          },
        },
      },
    ]);
    // Client-only settings change nothing on the server.
    host.current = { model: "quality", maxNewTokens: 64, debounceMs: 10 };
    await controller.settingsChanged();
    expect(clients[0].notifications).toHaveLength(1);
  });

  it("sends null for a cleared setting so the server goes back to its default", async () => {
    const host = new FakeHost();
    const { clients, factory } = recordingFactory();
    const controller = new Controller(host, factory);
    host.current = { model: "fast", serverUrl: "http://127.0.0.1:9999", threads: 4 };
    await controller.start();
    // initializationOptions still leave unset settings out.
    expect(clients[0].options).toEqual({ model: "fast", serverUrl: "http://127.0.0.1:9999", threads: 4 });
    host.current = { model: "fast", serverUrl: "", threads: 4 }; // the user clears the URL
    await controller.settingsChanged();
    expect(clients).toHaveLength(1);
    const settings = (clients[0].notifications.at(-1)?.params as { settings: Record<string, unknown> }).settings;
    expect(settings.serverUrl).toBeNull();
    expect(settings).toMatchObject({ model: "fast", threads: 4 });
    // Clearing the last one too: the change still reaches the server.
    host.current = { model: "fast" };
    await controller.settingsChanged();
    expect(clients[0].notifications).toHaveLength(2);
    expect((clients[0].notifications[1].params as { settings: Record<string, unknown> }).settings.threads).toBeNull();
  });

  it("restarts the server when the interpreter changes", async () => {
    const { host, clients, controller } = await started();
    host.current = { model: "fast", pythonPath: "/venv/bin/python" };
    await controller.settingsChanged();
    expect(clients).toHaveLength(2);
    expect(clients[0].stopped).toBe(1);
    expect(clients[1].launch.command).toBe("/venv/bin/python");
  });

  it("restart stops the old server and starts a new one", async () => {
    const { clients, controller } = await started();
    await controller.restart();
    expect(clients[0].stopped).toBe(1);
    expect(clients[1].started).toBe(1);
  });

  it("keeps one client alive when two settings changes each need a restart", async () => {
    const { host, clients, controller } = await started();
    host.current = { model: "fast", pythonPath: "/opt/a/python" };
    const first = controller.settingsChanged();
    host.current = { model: "fast", pythonPath: "/opt/b/python" };
    const second = controller.settingsChanged();
    await Promise.all([first, second]);
    const running = clients.filter((client) => client.started > client.stopped);
    expect(running.map((client) => client.launch.command)).toEqual(["/opt/b/python"]);
    await controller.dispose();
    expect(clients.every((client) => client.stopped === client.started)).toBe(true);
  });

  it("keeps one client alive when restart runs twice at once", async () => {
    const { clients, controller } = await started();
    await Promise.all([controller.restart(), controller.restart()]);
    expect(clients).toHaveLength(3);
    expect(clients.filter((client) => client.started > client.stopped)).toEqual([clients[2]]);
  });

  it("starts no client after dispose, even when a restart was already queued", async () => {
    const { clients, controller } = await started();
    const restarting = controller.restart();
    await controller.dispose();
    await restarting;
    expect(clients.filter((client) => client.started > client.stopped)).toHaveLength(0);
  });

  it("clears 'stopped' once the language client has restarted a crashed server by itself", async () => {
    const { host, clients, controller } = await started((client) => (client.status = { state: "ready", model: "fast" }));
    expect(host.lastStatus.text).toBe("$(sparkle) copilot fast");
    controller.serverStopped("the server exited"); // Running -> Stopped
    expect(host.lastStatus.text).toBe("$(error) copilot");
    const asked = clients[0].requests.length;
    controller.serverRunning(); // vscode-languageclient restarted it: Starting -> Running
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(clients[0].requests.length).toBe(asked + 1); // asked the new server for its status
    expect(host.lastStatus.text).toBe("$(sparkle) copilot fast");
    expect(host.lastStatus.background).toBeUndefined();
  });

  it("reports a server that cannot start and says how to fix it", async () => {
    const { host, controller } = await started((client) => (client.failStart = new Error("spawn python3 ENOENT")));
    expect(host.errors[0]).toContain("ENOENT");
    expect(host.errors[0]).toContain("copilot.pythonPath");
    expect(host.lastStatus.text).toBe("$(error) copilot");
    controller.showLog();
    expect(host.infos.at(-1)).toContain("not running");
  });

  it("toggle turns ghost text off for every language and back on", async () => {
    const { host, clients, controller } = await started();
    host.current = { enable: { "*": true, markdown: false } };
    const hooks = clients[0].hooks;
    expect(hooks.wanted("python")).toBe(true);
    expect(hooks.wanted("markdown")).toBe(false);
    controller.toggle();
    expect(hooks.wanted("python")).toBe(false);
    expect(host.lastStatus.text).toContain("off");
    controller.toggle();
    expect(hooks.wanted("python")).toBe(true);
  });

  it("forwards generate tests to the server with the cursor location", async () => {
    const { host, clients, controller } = await started((client) => (client.commands = ["copilot.generateTests"]));
    host.location = {
      uri: "file:///p/textstats.py",
      languageId: "python",
      position: { line: 4, character: 0 },
      selection: { start: { line: 4, character: 0 }, end: { line: 9, character: 0 } },
    };
    await controller.generateTests();
    expect(clients[0].requests.at(-1)).toEqual({
      method: "workspace/executeCommand",
      params: {
        command: "copilot.generateTests",
        arguments: [
          {
            textDocument: { uri: "file:///p/textstats.py" },
            position: { line: 4, character: 0 },
            range: { start: { line: 4, character: 0 }, end: { line: 9, character: 0 } },
          },
        ],
      },
    });
    // Explicit arguments (from a code lens, say) pass through untouched.
    expect(controller.commandArguments(["x"])).toEqual(["x"]);
  });

  it("explains when the server cannot generate tests", async () => {
    const { host, clients, controller } = await started();
    await controller.generateTests();
    expect(host.errors.at(-1)).toContain("cannot generate tests");
    expect(clients[0].requests.some((r) => r.method === "workspace/executeCommand")).toBe(false);
  });

  it("shows the log of the running server", async () => {
    const { clients, controller } = await started();
    controller.showLog();
    expect(clients[0].logShown).toBe(1);
  });
});

describe("debounce", () => {
  function manualTimers() {
    const pending: (() => void)[] = [];
    const setTimer = (callback: () => void) => {
      pending.push(callback);
      return { dispose: () => pending.splice(pending.indexOf(callback), 1) };
    };
    return { pending, setTimer };
  }

  it("goes ahead when nothing cancels during the pause", async () => {
    const { pending, setTimer } = manualTimers();
    const go = debounce(100, () => false, () => {}, setTimer);
    pending[0]();
    await expect(go).resolves.toBe(true);
  });

  it("gives up when the request is cancelled during the pause", async () => {
    const { pending, setTimer } = manualTimers();
    let cancel: () => void = () => {};
    const go = debounce(100, () => false, (listener) => (cancel = listener), setTimer);
    cancel();
    await expect(go).resolves.toBe(false);
    expect(pending).toHaveLength(0);
  });

  it("does not wait at all with a zero pause", async () => {
    await expect(debounce(0, () => false, () => {}, () => ({ dispose() {} }))).resolves.toBe(true);
    await expect(debounce(0, () => true, () => {}, () => ({ dispose() {} }))).resolves.toBe(false);
  });
});
