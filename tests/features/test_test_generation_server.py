"""The server side of test generation: the open test buffer, the edit's target, code actions."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from copilot_lsp.server import CopilotServer
from tests.fakes import ScriptedBackend, ThreadRunner

SRC = "def double(x):\n    return 2 * x\n\n\ndef triple(x):\n    return 3 * x\n"
DISK = "from m import double\n\n\ndef test_double():\n    assert double(2) == 4\n"
BUFFER = DISK + "\n\ndef test_double_zero():\n    assert double(0) == 0\n"


def _server(answer: str) -> CopilotServer:
    server = CopilotServer()
    server.model = ThreadRunner(ScriptedBackend(answer))  # type: ignore[assignment]
    server.protocol.client_capabilities = lsp.ClientCapabilities()
    return server


def test_test_file_reached_through_a_symlink_uses_the_editor_buffer(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    os.symlink(real, link)
    (real / "pyproject.toml").write_text("", encoding="utf-8")
    (real / "m.py").write_text(SRC, encoding="utf-8")
    (real / "test_m.py").write_text(DISK, encoding="utf-8")
    server = _server("    assert triple(2) == 6\n")
    source_uri, test_uri = (link / "m.py").as_uri(), (link / "test_m.py").as_uri()
    server.documents.open(source_uri, SRC, "python", 1)
    server.documents.open(test_uri, BUFFER, "python", 7)
    edit = asyncio.run(server.generate_tests(source_uri, lsp.Position(line=5, character=4)))
    (change,) = edit.document_changes  # type: ignore[misc]
    assert isinstance(change, lsp.TextDocumentEdit)
    assert change.text_document.uri == test_uri
    assert change.text_document.version == 7
    last = change.edits[-1]
    # The new test goes after the buffer's last test (line 9), not the file on disk's.
    assert last.range.start == lsp.Position(line=9, character=0)
    assert "def test_triple() -> None:" in last.new_text


def _actions(server: CopilotServer, uri: str, only: list[str] | None) -> list[lsp.CodeAction]:
    params = lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        range=lsp.Range(start=lsp.Position(line=1, character=4), end=lsp.Position(1, 4)),
        context=lsp.CodeActionContext(diagnostics=[], only=only),  # type: ignore[arg-type]
    )
    return server.test_code_actions(params)


@pytest.mark.parametrize(
    ("only", "offered"),
    [
        (None, True),
        (["source"], True),
        ([""], True),
        (["source.organizeImports"], False),
        (["source.fixAll"], False),
        (["quickfix"], False),
        (["sourcery"], False),
    ],
)
def test_code_action_respects_only_kinds(only: list[str] | None, offered: bool) -> None:
    server = _server("")
    uri = "file:///project/m.py"
    server.documents.open(uri, SRC, "python", 1)
    actions = _actions(server, uri, only)
    assert bool(actions) is offered
    if offered:
        assert actions[0].title == "Generate tests for double"
