"""Real models for the backend tests: the fast preset (llama.cpp), the tiny SmolLM2 GGUF
(transformers, and behind the OpenAI-compatible server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot_lsp.models import ensure_preset_file
from tests.backends.llama_server import LlamaServer


@pytest.fixture(scope="session")
def fast_gguf() -> Path:
    return ensure_preset_file("fast")


@pytest.fixture(scope="session")
def tiny_gguf() -> Path:
    return ensure_preset_file("tiny")


@pytest.fixture(scope="session")
def llama_server(
    fast_gguf: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlamaServer]:
    """Not started: each test starts it (or stops it, to test recovery)."""
    server = LlamaServer(fast_gguf, tmp_path_factory.mktemp("llama-server") / "server.log")
    yield server
    server.stop()
