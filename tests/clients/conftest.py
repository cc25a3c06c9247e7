"""Shared helpers for the editor-client tests (Neovim, browser playground).

These tests drive real clients against the real server and the `fast` model. When a
client's tools are missing they skip with the reason, unless COPILOT_LSP_CLIENT_TESTS=require
(set by `make test`, which installs the tools first): then a missing tool fails the test.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIENTS = REPO_ROOT / "editor-extension"


def need(condition: bool, reason: str) -> None:
    """Skip (or fail, when the client tests are required) unless ``condition`` holds."""
    if condition:
        return
    if os.environ.get("COPILOT_LSP_CLIENT_TESTS") == "require":
        pytest.fail(f"required for the client tests: {reason}")
    pytest.skip(reason)


def need_program(name: str) -> str:
    path = shutil.which(name)
    need(path is not None, f"`{name}` is not installed (make clients installs it)")
    assert path is not None
    return path
