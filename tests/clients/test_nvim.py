"""The Neovim plugin in a real headless Neovim against the real server and the fast model:
open an example, type, wait for the ghost text (extmarks), accept with Tab, check the buffer."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import CLIENTS, REPO_ROOT, need, need_program

pytestmark = pytest.mark.model

PLUGIN = CLIENTS / "nvim"
TIMEOUT = 420.0


@pytest.fixture
def nvim(tmp_path: Path) -> Iterator[Any]:
    executable = need_program("nvim")
    try:
        import pynvim
    except ImportError:
        need(False, "pynvim is not installed")
    version = subprocess.run([executable, "--version"], capture_output=True, text=True).stdout
    need("NVIM v0." in version, f"unexpected nvim version: {version.splitlines()[:1]}")
    shutil.copy(REPO_ROOT / "examples" / "python" / "textstats.py", tmp_path / "textstats.py")
    session = pynvim.attach(
        "child", argv=[executable, "--embed", "--headless", "--clean", "-n", "-i", "NONE"]
    )
    try:
        session.command(f"cd {tmp_path}")
        session.command(f"set runtimepath^={PLUGIN}")
        session.exec_lua(
            "require('copilot_lsp').setup({"
            " cmd = ..., settings = { model = 'fast', maxNewTokens = 48 }, debounce_ms = 100 })",
            [sys.executable, "-m", "copilot_lsp", "serve"],
        )
        yield session
    finally:
        session.exec_lua("for _, c in ipairs(vim.lsp.get_active_clients()) do c.stop() end")
        time.sleep(0.5)
        session.close()


def wait_for(probe, what: str, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"waited {timeout:.0f} s for {what}")


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
