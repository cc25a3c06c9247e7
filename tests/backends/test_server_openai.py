"""The real language server on the OpenAI-compatible backend: a dead inference server gives
an empty answer and a message, the server keeps serving, and recovers when it comes back;
invoked requests get several ranked candidates, automatic ones one."""

from __future__ import annotations

import asyncio
import os

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.backends.llama_server import API_KEY, KEY_ENV, LlamaServer
from tests.e2e.conftest import SERVER, ask, capabilities, open_document, wait_until_settled

pytestmark = pytest.mark.model

URI = "file:///work/stats.py"
TEXT = "def mean(values: list[float]) -> float:\n    total = sum(values)\n    return \n"
LINE, COLUMN = 2, len("    return ")


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, server_env={**os.environ, KEY_ENV: API_KEY}),
    scope="module",
)
async def client(lsp_client: LanguageClient, llama_server: LlamaServer):
    await asyncio.to_thread(llama_server.stop)
    options = {
        "backend": "openai",
        "serverUrl": llama_server.url,
        "apiKeyEnv": KEY_ENV,
        "maxRetries": 0,
        "connectTimeout": 2.0,
        "maxNewTokens": 24,
        "candidates": 3,
    }
    await lsp_client.initialize_session(
        lsp.InitializeParams(capabilities=capabilities(), initialization_options=options)
    )
    settled = await wait_until_settled(lsp_client)
    assert settled["state"] == "ready", settled  # nothing is contacted before the first request
    open_document(lsp_client, URI, TEXT)
    yield
    await lsp_client.shutdown_session()


async def test_server_down_then_back(client: LanguageClient, llama_server: LlamaServer) -> None:
    shown = len(client.messages)
    down = await client.text_document_inline_completion_async(ask(URI, LINE, COLUMN))
    assert down is not None and not down.items
    await asyncio.sleep(0.2)
    told = " ".join(message.message for message in client.messages[shown:])
    assert "cannot reach" in told and llama_server.url in told

    await asyncio.to_thread(llama_server.start)
    back = await client.text_document_inline_completion_async(ask(URI, LINE, COLUMN))
    assert back is not None and back.items
    texts = [item.insert_text for item in back.items]
    assert any("len(values)" in text for text in texts), texts
    assert len(texts) == len(set(texts)) <= 3


async def test_automatic_requests_ask_for_one_candidate(
    client: LanguageClient, llama_server: LlamaServer
) -> None:
    await asyncio.to_thread(llama_server.start)
    # A document of its own, so the answer cannot come from the cache of the invoked request
    # (the first one is closed: its near-copy as a cross-file snippet confuses the small model).
    client.text_document_did_close(
        lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=URI))
    )
    uri = "file:///work/stats_automatic.py"
    open_document(client, uri, TEXT.replace("mean", "average"))
    before = await client.protocol.send_request_async("copilot/status", {})
    automatic = lsp.InlineCompletionTriggerKind.Automatic
    result = await client.text_document_inline_completion_async(ask(uri, LINE, COLUMN, automatic))
    assert result is not None and len(result.items) == 1
    status = await client.protocol.send_request_async("copilot/status", {})
    assert status.counters.modelCalls == before.counters.modelCalls + 1
    assert status.lastGeneration.candidates == 1
    assert status.lastGeneration.meanLogprob < 0
