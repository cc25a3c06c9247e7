"""Fixtures that start the real `copilot-lsp serve` process with the real default model."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from typing import Any

import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from copilot_lsp.documents import UTF16, Document

SERVER = [sys.executable, "-m", "copilot_lsp", "serve"]
# Servers started by the tests keep their usage log out of the user's state folder.
os.environ.setdefault("COPILOT_LSP_STATE_DIR", tempfile.mkdtemp(prefix="copilot-lsp-tests-"))


def capabilities(encodings: list[str] | None = None) -> lsp.ClientCapabilities:
    return lsp.ClientCapabilities(
        window=lsp.WindowClientCapabilities(work_done_progress=True),
        general=lsp.GeneralClientCapabilities(position_encodings=encodings or ["utf-16"]),
        text_document=lsp.TextDocumentClientCapabilities(
            inline_completion=lsp.InlineCompletionClientCapabilities()
        ),
    )


def as_dict(value: Any) -> Any:
    """pygls hands back untyped results as named tuples; turn them into plain dicts."""
    if hasattr(value, "_asdict"):
        return {key: as_dict(item) for key, item in value._asdict().items()}
    return value


async def status(client: LanguageClient) -> dict[str, Any]:
    return as_dict(await client.protocol.send_request_async("copilot/status", {}))


async def wait_until_settled(client: LanguageClient, timeout: float = 300) -> dict[str, Any]:
    """Poll copilot/status until the model has loaded or failed."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        current = await status(client)
        if current["state"] in ("ready", "failed"):
            return current
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"model still {current['state']} after {timeout} s")
        await asyncio.sleep(0.2)


def open_document(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
        )
    )


def ask(
    uri: str,
    line: int,
    character: int,
    trigger: lsp.InlineCompletionTriggerKind = lsp.InlineCompletionTriggerKind.Invoked,
    selected: lsp.SelectedCompletionInfo | None = None,
) -> lsp.InlineCompletionParams:
    return lsp.InlineCompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        position=lsp.Position(line=line, character=character),
        context=lsp.InlineCompletionContext(
            trigger_kind=trigger, selected_completion_info=selected
        ),
    )


def apply_item(text: str, item: lsp.InlineCompletionItem) -> str:
    """Apply an item the way an editor does: replace its range with its text."""
    document = Document("file:///x", text)
    assert item.range is not None
    start = document.offset_at(item.range.start.line, item.range.start.character, UTF16)
    end = document.offset_at(item.range.end.line, item.range.end.character, UTF16)
    insert = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
    return text[:start] + insert + text[end:]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module")
async def client(lsp_client: LanguageClient):
    """A server with the quality model, shared by a test module: these tests check that its
    answers are right, which the 0.5B model (the default below 4 cores) does not always
    get (the default itself is tested with `copilot-lsp demo` in test_demo.py). One
    candidate per request keeps the suite fast on two cores; ranked candidates are tested
    in tests/backends."""
    result = await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=capabilities(),
            initialization_options={"candidates": 1, "model": "quality"},
        )
    )
    lsp_client.server_capabilities = result.capabilities  # type: ignore[attr-defined]
    settled = await wait_until_settled(lsp_client)
    assert settled["state"] == "ready", settled
    yield
    await lsp_client.shutdown_session()
