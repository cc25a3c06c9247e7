"""`copilot-lsp demo`, the README's first command, on the default model of this machine."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.model
ROOT = Path(__file__).parents[2]


def test_the_demo_shows_ghost_text_at_every_cursor_with_the_preset_for_these_cores() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "copilot_lsp", "demo", "examples"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    preset = "quality" if len(os.sched_getaffinity(0)) >= 4 else "fast"
    assert done.stdout.startswith(f"model 'auto -> {preset}': ready after ")
    blocks = re.findall(
        r"^(\S+:\d+:\d+)  first \d+ ms, second \d+ ms\n    ghost text:\n(.*?)\n    original:\n",
        done.stdout,
        flags=re.MULTILINE | re.DOTALL,
    )
    assert len(blocks) == 5, done.stdout
    assert all(ghost.strip(" │\n") for _, ghost in blocks), done.stdout
    # The mean's division (both presets get it): the ghost text is what the file had.
    assert dict(blocks)["python/textstats.py:10:26"] == "      │ len(values)"
