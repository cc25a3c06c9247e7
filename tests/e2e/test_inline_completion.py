"""Inline completion through the real server process and the real quality model."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from copilot_lsp.demo import Cursor, load_cursors
from tests.e2e.conftest import apply_item, ask, open_document

pytestmark = pytest.mark.model
EXAMPLES = Path(__file__).parents[2] / "examples"


def cursor_at(anchor: str) -> Cursor:
    return next(c for c in load_cursors(EXAMPLES) if anchor in c.text.split("\n")[c.line])


def run_example_tests(module_text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    shutil.copy(EXAMPLES / "python" / "test_textstats.py", tmp_path)
    (tmp_path / "textstats.py").write_text(module_text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


async def test_server_advertises_inline_completion_and_incremental_sync(
    client: LanguageClient,
) -> None:
    capabilities = client.server_capabilities  # type: ignore[attr-defined]
    assert capabilities.inline_completion_provider is not None
    sync = capabilities.text_document_sync
    assert isinstance(sync, lsp.TextDocumentSyncOptions)
    assert sync.change == lsp.TextDocumentSyncKind.Incremental
    assert capabilities.position_encoding == lsp.PositionEncodingKind.Utf16


@pytest.mark.parametrize(
    "trigger", [lsp.InlineCompletionTriggerKind.Invoked, lsp.InlineCompletionTriggerKind.Automatic]
)
@pytest.mark.parametrize("anchor", ["return sum(values) /", "cleaned = [char.lower()"])
async def test_completion_in_a_function_body_makes_the_example_pass(
    client: LanguageClient, tmp_path: Path, anchor: str, trigger: lsp.InlineCompletionTriggerKind
) -> None:
    """Automatic requests heal the end of the typed text: at the end of a finished line
    (``cleaned = ...``) the answer must still be the next line, not more of this one."""
    cursor = cursor_at(anchor)
    open_document(client, cursor.uri, cursor.text)
    result = await client.text_document_inline_completion_async(
        ask(cursor.uri, cursor.line, cursor.character, trigger=trigger)
    )
    assert isinstance(result, lsp.InlineCompletionList) and result.items
    completed = apply_item(cursor.text, result.items[0])
    ast.parse(completed)
    outcome = run_example_tests(completed, tmp_path)
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr


async def test_typing_is_tracked_through_incremental_changes(client: LanguageClient) -> None:
    """Type a function body character by character, then complete after an emoji."""
    uri = "untitled:Untitled-typing"
    open_document(client, uri, 'def wave(name):\n    """Greet with a 👋."""\n    \n')
    typed = 'return f"👋 {'
    for index, char in enumerate(typed):
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2 + index),
                content_changes=[
                    lsp.TextDocumentContentChangePartial(
                        range=lsp.Range(
                            start=lsp.Position(
                                line=2, character=4 + len(typed[:index].encode("utf-16-le")) // 2
                            ),
                            end=lsp.Position(
                                line=2, character=4 + len(typed[:index].encode("utf-16-le")) // 2
                            ),
                        ),
                        text=char,
                    )
                ],
            )
        )
    column = 4 + len(typed.encode("utf-16-le")) // 2
    result = await client.text_document_inline_completion_async(ask(uri, 2, column))
    assert isinstance(result, lsp.InlineCompletionList) and result.items
    item = result.items[0]
    assert item.range == lsp.Range(
        start=lsp.Position(line=2, character=column), end=lsp.Position(line=2, character=column)
    )
    text = apply_item('def wave(name):\n    """Greet with a 👋."""\n    ' + typed + "\n", item)
    assert "name" in text.split("\n")[2]
    ast.parse(text)


async def test_selected_completion_is_extended_and_its_range_used(
    client: LanguageClient,
) -> None:
    uri = "file:///tmp/selected_completion.py"
    text = "import os\n\n\ndef config_dir():\n    return os.path.ex\n"
    open_document(client, uri, text)
    replaced = lsp.Range(start=lsp.Position(line=4, character=19), end=lsp.Position(4, 21))
    result = await client.text_document_inline_completion_async(
        ask(uri, 4, 21, selected=lsp.SelectedCompletionInfo(range=replaced, text="expanduser"))
    )
    assert isinstance(result, lsp.InlineCompletionList) and result.items
    item = result.items[0]
    assert item.range == replaced
    assert isinstance(item.insert_text, str) and item.insert_text.startswith("expanduser")
    assert len(item.insert_text) > len("expanduser")
