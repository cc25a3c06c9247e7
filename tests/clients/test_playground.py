"""The browser playground in Debian's chromium (driven by playwright-core) against the real
server and the fast model. The browser half lives in
editor-extension/playground/test/playground.e2e.mjs; this test builds nothing: it runs that
script (after `make clients`) and shows its output on failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clients.conftest import CLIENTS, REPO_ROOT, need, need_program

pytestmark = pytest.mark.model

PLAYGROUND = CLIENTS / "playground"


def test_type_see_ghost_text_accept_with_tab(tmp_path: Path) -> None:
    node = need_program("node")
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    need(Path(chromium).is_file(), f"no chromium at {chromium} (apt-get install chromium)")
    need(
        (PLAYGROUND / "node_modules" / "playwright-core").is_dir()
        and (PLAYGROUND / "dist" / "index.html").is_file(),
        "the playground is not built (make playground)",
    )
    screenshot = PLAYGROUND / "test-results" / "playground.png"
    environment = {
        **os.environ,
        "PYTHON": sys.executable,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "CHROMIUM": chromium,
        "MODEL": "fast",
        "SCREENSHOT": str(screenshot),
        "TIMEOUT_MS": "420000",
    }
    run = subprocess.run(
        [node, "test/playground.e2e.mjs"],
        cwd=PLAYGROUND,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "playground e2e: ok" in run.stdout
    assert screenshot.is_file()
