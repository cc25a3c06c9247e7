"""The built VS Code extension (dist/extension.js with vscode-languageclient inside)
activated in plain Node against the real server and the fast model: `require("vscode")` gets
a small stand-in that records what the extension registers (editor-extension/vscode/test/e2e/);
the language client, server and model are real. It is quick and checks what a real editor
hides: the registered commands and providers, the status bar text, toggling off and on, and
restarting the server. test_vscode_real.py drives the packaged .vsix in a real VS Code
(code-server) and chromium instead: ghost text on screen, Tab, the saved file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.clients.conftest import CLIENTS, REPO_ROOT, need, need_program

pytestmark = pytest.mark.model

VSCODE = CLIENTS / "vscode"


def test_extension_gets_ghost_text_from_the_real_server() -> None:
    node = need_program("node")
    need((VSCODE / "dist" / "extension.js").is_file(), "the extension is not built (make vscode)")
    environment = {
        **os.environ,
        "PYTHON": sys.executable,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "TIMEOUT_MS": "420000",
    }
    run = subprocess.run(
        [node, "test/e2e/extension.e2e.cjs"],
        cwd=VSCODE,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "vscode extension e2e: ok" in run.stdout
    assert "suggestion at 10:26" in run.stdout
