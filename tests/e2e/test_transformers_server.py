"""The real server over stdio with the transformers engine and the tiny model (SmolLM2,
converted once from its GGUF): the editor path does not depend on llama.cpp. On a machine
with a GPU this runs there (cuda, bf16)."""

from __future__ import annotations

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import (
    SERVER,
    apply_item,
    ask,
    capabilities,
    open_document,
    status,
    wait_until_settled,
)

pytestmark = pytest.mark.model
pytest.importorskip("transformers")

URI = "file:///work/fib.py"
AUTOMATIC = lsp.InlineCompletionTriggerKind.Automatic
TEXT = "def fibonacci(n):\n    if n < 2:\n        return n\n    return \n"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module")
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=capabilities(),
            initialization_options={"backend": "transformers", "model": "tiny", "candidates": 1},
        )
    )
    settled = await wait_until_settled(lsp_client)
    assert settled["state"] == "ready", settled
    yield
    await lsp_client.shutdown_session()


async def test_ghost_text_from_the_transformers_engine_and_its_cache(
    client: LanguageClient,
) -> None:
    assert (await status(client))["backend"] == "transformers"
    open_document(client, URI, TEXT)
    result = await client.text_document_inline_completion_async(ask(URI, 3, 11, AUTOMATIC))
    items = result.items if isinstance(result, lsp.InlineCompletionList) else result
    assert items, "no suggestion"
    completed = apply_item(TEXT, items[0])
    assert completed.split("\n")[3].startswith("    return fibonacci(")

    # One keystroke on: the engine evaluates only what is new (the middle starts before
    # the cursor while typing, so the suffix stays in the cache).
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=URI, version=2),
            content_changes=[
                lsp.TextDocumentContentChangePartial(
                    range=lsp.Range(start=lsp.Position(3, 11), end=lsp.Position(3, 11)),
                    text="(",
                )
            ],
        )
    )
    before = (await status(client))["counters"]["modelCalls"]
    await client.text_document_inline_completion_async(ask(URI, 3, 12, AUTOMATIC))
    current = await status(client)
    assert current["counters"]["modelCalls"] == before + 1  # "(" does not go on the suggestion
    generation = current["lastGeneration"]
    assert generation["reusedPromptTokens"] >= generation["promptTokens"] - 4
