"""The built extension (dist/copilot-lsp.vsix) in a real VS Code against the real server
and the fast model. code-server (the VS Code workbench served to a browser, installed by
`make clients` under editor-extension/vscode/test/real/) runs with the .vsix installed and
settings that point the extension at this interpreter; Debian's chromium, driven by
playwright-core (editor-extension/vscode/test/real/vscode-real.e2e.mjs), opens a copy of an
example file, types, waits for the ghost text, presses Tab and saves with Ctrl+S. The test
then checks the file on disk: the suggestion VS Code showed is in it."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.clients.conftest import CLIENTS, REPO_ROOT, need, need_program

pytestmark = pytest.mark.model

VSCODE = CLIENTS / "vscode"
REAL = VSCODE / "test" / "real"
CODE_SERVER = REAL / "node_modules" / ".bin" / "code-server"
VSIX = VSCODE / "dist" / "copilot-lsp.vsix"
EXAMPLE = REPO_ROOT / "examples" / "python" / "textstats.py"
# A demo cursor (examples/demo.toml): the end of mean() with its divisor cut; the test types
# the divisor's first letter there.
CUT = "len(values)"
LINE = 10
TYPED = "l"


@dataclass
class CodeServer:
    """A running code-server: its workbench URL, opened folder and log."""

    url: str
    folder: Path
    data: Path
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        """The end of code-server's own log and of the extension's output channel."""
        parts = [f"--- code-server log ({self.log}) ---", *tail(self.log, lines)]
        for channel in sorted(self.data.glob("logs/**/*copilot*.log")):
            parts += [f"--- {channel.relative_to(self.data)} ---", *tail(channel, lines)]
        return "\n".join(parts)


def tail(path: Path, lines: int) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except OSError as error:
        return [f"(unreadable: {error})"]


def settings() -> dict[str, object]:
    """User settings: the extension runs this interpreter's copilot-lsp with the fast model;
    VS Code's own word suggestions are off so that Tab can only accept the ghost text."""
    return {
        "copilot.pythonPath": sys.executable,
        "copilot.model": "fast",
        "copilot.maxNewTokens": 32,
        "editor.inlineSuggest.enabled": True,
        "editor.quickSuggestions": {"other": False, "comments": False, "strings": False},
        "editor.suggestOnTriggerCharacters": False,
        "editor.wordBasedSuggestions": "off",
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": False,
        "security.workspace.trust.enabled": False,
        "telemetry.telemetryLevel": "off",
        "extensions.autoCheckUpdates": False,
        "extensions.autoUpdate": False,
        "update.mode": "none",
    }


@pytest.fixture
def code_server(tmp_path: Path) -> Iterator[CodeServer]:
    """code-server on a free port (it binds port 0 and logs the one it got) with the .vsix
    installed in a temporary extensions dir; stopped with its process group (extension host,
    file watcher, language server) afterwards."""
    need_program("node")
    need(CODE_SERVER.is_file(), "code-server is not installed (make clients)")
    need(VSIX.is_file(), "the extension is not packaged (make vscode)")
    data, extensions, folder = tmp_path / "data", tmp_path / "extensions", tmp_path / "project"
    (data / "User").mkdir(parents=True)
    (data / "User" / "settings.json").write_text(json.dumps(settings(), indent=2))
    folder.mkdir()
    config = tmp_path / "config.yaml"
    config.write_text("bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n")
    base = [
        str(CODE_SERVER),
        "--config",
        str(config),
        "--user-data-dir",
        str(data),
        "--extensions-dir",
        str(extensions),
    ]
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        # code-server keeps a heartbeat and logs in XDG_DATA_HOME/code-server: not in $HOME.
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
    }
    install = subprocess.run(
        [*base, "--install-extension", str(VSIX)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0 and "successfully installed" in install.stdout, (
        f"installing {VSIX.name} failed:\n{install.stdout}\n{install.stderr}"
    )

    log = tmp_path / "code-server.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                *base,
                "--auth",
                "none",
                "--bind-addr",
                "127.0.0.1:0",
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                "--disable-getting-started-override",
                str(folder),
            ],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        url = None
        while url is None:
            match = re.search(r"HTTP server listening on (http://\S+?)/?\s", log.read_text())
            if match:
                url = match[1]
            elif process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"code-server did not start ({process.poll()=}):\n{log.read_text()}")
            else:
                time.sleep(0.2)
        yield CodeServer(url=url, folder=folder, data=data, log=log)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End code-server's whole session: SIGTERM to its process group, then SIGKILL for what
    is left (its file watcher outlives it otherwise)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_tab_accepts_ghost_text_in_real_vscode(code_server: CodeServer) -> None:
    node = need_program("node")
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    need(Path(chromium).is_file(), f"no chromium at {chromium} (apt-get install chromium)")
    need((REAL / "node_modules" / "playwright-core").is_dir(), "playwright-core (make clients)")

    original = EXAMPLE.read_text()
    lines = original.split("\n")
    assert lines[LINE - 1].endswith(CUT), f"{EXAMPLE} changed: line {LINE} is {lines[LINE - 1]!r}"
    lines[LINE - 1] = lines[LINE - 1].removesuffix(CUT)
    target = code_server.folder / EXAMPLE.name
    target.write_text("\n".join(lines))

    screenshot = VSCODE / "test-results" / "vscode-real.png"
    environment = {
        **os.environ,
        "URL": f"{code_server.url}/?folder={code_server.folder}",
        "PATH_ON_DISK": str(target),
        "LINE": str(LINE),
        "TYPE": TYPED,
        "MODEL": "fast",
        "CHROMIUM": chromium,
        "SCREENSHOT": str(screenshot),
        "TIMEOUT_MS": "420000",
    }
    started = time.monotonic()
    try:
        run = subprocess.run(
            [node, "vscode-real.e2e.mjs"],
            cwd=REAL,
            env=environment,
            capture_output=True,
            text=True,
            timeout=900,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(
            f"the browser script ran over 900 s: {error.stdout!r}\n{code_server.log_tail()}"
        )
    output = (run.stdout + run.stderr)[-4000:]
    report = f"{output}\n{code_server.log_tail()}"
    assert run.returncode == 0, report
    result = re.search(r"^vscode real e2e: (.*)$", run.stdout, re.MULTILINE)
    assert result, report
    ghost = json.loads(result[1])["ghost"]
    print(f"ghost text {ghost}; shown, accepted and saved after {time.monotonic() - started:.0f} s")

    # The saved file is the cut file with what was typed and the ghost text VS Code showed
    # inserted at the cursor, nothing else.
    inline, more = ghost["inline"], ghost["lines"]
    assert (inline + "".join(more)).strip(), f"empty ghost text\n{report}"
    accepted = "\n".join([lines[LINE - 1] + TYPED + inline, *more])
    expected = "\n".join([*lines[: LINE - 1], accepted, *lines[LINE:]])
    saved = target.read_text()
    assert saved == expected, f"saved line {LINE}: {saved.split(chr(10))[LINE - 1]!r}\n{report}"
    assert screenshot.is_file()
