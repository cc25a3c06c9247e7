"""The Neovim plugin in a real headless Neovim against the real server and the fast model:
open an example, type, wait for the ghost text (extmarks), accept with Tab, check the buffer.
The plugin's own edge cases run against a stand-in server (FAKE_SERVER) with fixed answers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import CLIENTS, REPO_ROOT, need, need_program

PLUGIN = CLIENTS / "nvim"
TIMEOUT = 420.0
PLUGIN_LUA = "require('copilot_lsp')"

# A stand-in LSP server: `FAKE_SERVER LOG ITEMS` logs each message it gets to LOG (one JSON
# a line) and answers every inlineCompletion with ITEMS (JSON), each given the request's
# position as its empty range unless it has `"range": null`.
FAKE_SERVER = """
import json, sys

log = open(sys.argv[1], "a", buffering=1)
items = json.loads(sys.argv[2])


def read():
    length = 0
    while line := sys.stdin.buffer.readline():
        if not line.strip():
            return json.loads(sys.stdin.buffer.read(length))
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return None


while (message := read()) is not None:
    log.write(json.dumps(message) + "\\n")
    method = message.get("method")
    result = None
    if method == "initialize":
        result = {"capabilities": {"textDocumentSync": 2, "inlineCompletionProvider": True}}
    elif method == "textDocument/inlineCompletion":
        position = message["params"]["position"]
        result = {"items": []}
        for item in items:
            item = {"range": {"start": position, "end": position}, **item}
            if item["range"] is None:
                del item["range"]
            result["items"].append(item)
    elif method == "exit":
        break
    if "id" in message and method is not None:
        body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}).encode()
        sys.stdout.buffer.write(b"Content-Length: %d\\r\\n\\r\\n" % len(body) + body)
        sys.stdout.buffer.flush()
"""


def start_nvim(tmp_path: Path, cmd: list[str], settings: dict[str, Any], debounce_ms: int) -> Any:
    executable = need_program("nvim")
    try:
        import pynvim
    except ImportError:
        need(False, "pynvim is not installed")
    version = subprocess.run([executable, "--version"], capture_output=True, text=True).stdout
    need("NVIM v0." in version, f"unexpected nvim version: {version.splitlines()[:1]}")
    session = pynvim.attach(
        "child", argv=[executable, "--embed", "--headless", "--clean", "-n", "-i", "NONE"]
    )
    session.command(f"cd {tmp_path}")
    session.command(f"set runtimepath^={PLUGIN}")
    session.exec_lua(
        f"local cmd, settings, debounce_ms = ...\n"
        f"{PLUGIN_LUA}.setup({{ cmd = cmd, settings = settings, debounce_ms = debounce_ms }})",
        cmd,
        settings,
        debounce_ms,
    )
    return session


def stop_nvim(session: Any) -> None:
    session.exec_lua("for _, c in ipairs(vim.lsp.get_active_clients()) do c.stop() end")
    time.sleep(0.5)
    session.close()


@pytest.fixture
def nvim(tmp_path: Path) -> Iterator[Any]:
    shutil.copy(REPO_ROOT / "examples" / "python" / "textstats.py", tmp_path / "textstats.py")
    cmd = [sys.executable, "-m", "copilot_lsp", "serve"]
    session = start_nvim(tmp_path, cmd, {"model": "fast", "maxNewTokens": 48}, debounce_ms=100)
    try:
        yield session
    finally:
        stop_nvim(session)


class FakeNvim:
    """Neovim with the plugin against FAKE_SERVER; typing never triggers a request by itself
    (a long debounce): `suggest` asks explicitly."""

    def __init__(self, tmp_path: Path, items: list[dict[str, Any]]) -> None:
        server = tmp_path / "fake_server.py"
        server.write_text(FAKE_SERVER)
        self.log = tmp_path / "fake_server.log"
        self.log.touch()
        cmd = [sys.executable, str(server), str(self.log), json.dumps(items)]
        self.session = start_nvim(tmp_path, cmd, {}, debounce_ms=60_000)

    def messages(self, method: str) -> list[dict[str, Any]]:
        messages = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [message for message in messages if message.get("method") == method]

    def attached(self) -> bool:
        return bool(self.session.exec_lua("return #vim.lsp.buf_get_clients(0) > 0"))

    def current(self) -> dict[str, Any] | None:
        return self.session.exec_lua(f"return {PLUGIN_LUA}.current()")

    def suggest(self, line: str) -> dict[str, Any]:
        """`line` alone in the buffer, insert mode at its end, the ghost text shown."""
        wait_for(lambda: self.messages("initialized"), "the server to start", timeout=20)
        self.session.current.buffer[:] = [line]
        self.session.command("startinsert!")
        self.session.funcs.cursor(1, len(line.encode()) + 1)
        self.session.exec_lua(f"{PLUGIN_LUA}.trigger(1)")
        return wait_for(self.current, "ghost text", timeout=20)


@pytest.fixture
def fake_nvim(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[FakeNvim]:
    editor = FakeNvim(tmp_path, request.param)
    try:
        yield editor
    finally:
        stop_nvim(editor.session)


def wait_for(probe, what: str, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"waited {timeout:.0f} s for {what}")


@pytest.mark.model
def test_type_see_ghost_text_accept_with_tab(nvim: Any) -> None:
    nvim.command("edit textstats.py")
    plugin = "require('copilot_lsp')"

    def settled() -> dict[str, Any] | None:
        status = nvim.exec_lua(f"return {plugin}.status()")
        return status if status and status["state"] in ("ready", "failed") else None

    status = wait_for(settled, "the model to load")
    assert status["state"] == "ready", status
    assert status["model"] == "fast"

    # Type a new function's header at the end of the file, like a user.
    nvim.input("Go<CR>def variance(values: list[float]) -> float:<CR>")
    ghost = wait_for(lambda: nvim.exec_lua(f"return {plugin}.current()"), "ghost text")
    assert ghost["text"].strip(), ghost

    # The ghost text is really on screen: extmarks in the plugin's namespace carry it.
    marks = nvim.exec_lua(
        "local ns = vim.api.nvim_create_namespace('copilot_lsp_ghost')"
        " return vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })"
    )
    assert marks, "no extmark for the ghost text"
    details = marks[0][3]
    drawn = [chunk[0] for chunk in details["virt_text"]]
    drawn += [chunk[0] for line in details.get("virt_lines", []) for chunk in line]
    assert "\n".join(drawn) == ghost["text"]

    before = nvim.current.buffer[:]
    row = len(before) - 1
    assert before[row].strip() == "", before[-2:]  # cursor on the auto-indented new line
    nvim.input("<Tab>")
    after = wait_for(
        lambda: (lines := nvim.current.buffer[:]) != before and lines, "the accepted text"
    )
    # Exactly the suggestion, inserted at the cursor; still in insert mode; ghost gone.
    expected = before[:row] + (before[row] + ghost["text"]).split("\n") + before[row + 1 :]
    assert after == expected
    assert "def variance(values: list[float]) -> float:" in after
    assert nvim.api.get_mode()["mode"] == "i"


PASS_COMMAND = {"title": "Accepted", "command": "copilot.accepted", "arguments": ["id-7"]}


@pytest.mark.parametrize("fake_nvim", [[{"insertText": "pass"}]], indirect=True)
def test_buffers_without_a_name_are_not_attached(fake_nvim: FakeNvim) -> None:
    # Each would be the document `file://`: edits in one would corrupt the other's text.
    fake_nvim.session.command("edit named.py")
    wait_for(fake_nvim.attached, "the named buffer to attach", timeout=20)
    for _ in range(2):
        fake_nvim.session.command("enew | setfiletype python")
        time.sleep(0.3)
        assert not fake_nvim.attached()
    opened = [
        m["params"]["textDocument"]["uri"] for m in fake_nvim.messages("textDocument/didOpen")
    ]
    assert len(opened) == 1 and opened[0].endswith("/named.py"), opened


@pytest.mark.parametrize(
    "fake_nvim", [[{"insertText": "pass", "command": PASS_COMMAND}]], indirect=True
)
def test_accept_runs_the_items_command(fake_nvim: FakeNvim) -> None:
    fake_nvim.session.command("edit t.py")
    fake_nvim.suggest("x = ")
    fake_nvim.session.input("<Tab>")
    wait_for(lambda: fake_nvim.session.current.buffer[:] == ["x = pass"], "the accepted text")
    executed = wait_for(
        lambda: fake_nvim.messages("workspace/executeCommand"), "copilot.accepted", timeout=5
    )
    assert [m["params"] for m in executed] == [
        {"command": "copilot.accepted", "arguments": ["id-7"]}
    ]


@pytest.mark.parametrize("fake_nvim", [[{"insertText": "pass", "range": None}]], indirect=True)
def test_item_without_range_follows_typing_from_the_request_position(
    fake_nvim: FakeNvim,
) -> None:
    fake_nvim.session.command("edit t.py")
    fake_nvim.suggest("x = ")
    # Typing the suggestion's start consumes it; Tab inserts only the rest.
    fake_nvim.session.input("pa")
    wait_for(lambda: fake_nvim.session.current.buffer[:] == ["x = pa"], "the typed text")
    assert (fake_nvim.current() or {}).get("text") == "ss"
    fake_nvim.session.input("<Tab>")
    wait_for(lambda: fake_nvim.session.current.buffer[:] == ["x = pass"], "the accepted text")
    # Typing something else dismisses it.
    fake_nvim.suggest("y = ")
    fake_nvim.session.input("zz")
    wait_for(lambda: fake_nvim.session.current.buffer[:] == ["y = zz"], "the typed text")
    assert fake_nvim.current() is None
