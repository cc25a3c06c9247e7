"""Cancellation, settings and bad input against the real server and model."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import (
    SERVER,
    ask,
    capabilities,
    open_document,
    status,
    wait_until_settled,
)

pytestmark = pytest.mark.model
REQUEST_CANCELLED = -32800
INVALID_PARAMS = -32602


async def test_cancel_stops_the_generation(client: LanguageClient) -> None:
    """A long generation is cancelled mid-way: the client gets RequestCancelled and the
    model thread stops after a few tokens instead of running to max_new_tokens."""
    client.workspace_did_change_configuration(
        # No cache: the second, identical request must reach the model to be cancelled.
        lsp.DidChangeConfigurationParams(
            settings={"copilot": {"maxNewTokens": 1000, "cache": False}}
        )
    )
    uri = "untitled:primes"
    open_document(
        client, uri, "# The first 300 prime numbers, one per line.\nPRIMES = [\n    2,\n    "
    )
    warm = await client.text_document_inline_completion_async(ask(uri, 3, 4))
    assert warm.items, "expected a long multi-line answer to cancel"
    before = await status(client)
    assert before["lastGeneration"]["completionTokens"] > 60

    request_id = str(uuid.uuid4())
    future = client.protocol.send_request(
        lsp.TEXT_DOCUMENT_INLINE_COMPLETION, ask(uri, 3, 4), msg_id=request_id
    )
    await asyncio.sleep(1.0)
    client.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id=request_id))
    with pytest.raises(JsonRpcException) as raised:
        await asyncio.wait_for(asyncio.wrap_future(future), timeout=30)
    assert raised.value.code == REQUEST_CANCELLED

    # The model thread finishes the cancelled generation quickly and reports it.
    for _ in range(50):
        after = await status(client)
        if after["lastGeneration"]["finishReason"] == "cancelled":
            break
        await asyncio.sleep(0.1)
    assert after["lastGeneration"]["finishReason"] == "cancelled"
    assert (
        after["lastGeneration"]["completionTokens"] < before["lastGeneration"]["completionTokens"]
    )
    client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(settings={"copilot": {"maxNewTokens": 128, "cache": True}})
    )


async def test_unknown_document_is_a_clear_error(client: LanguageClient) -> None:
    with pytest.raises(JsonRpcException) as raised:
        await client.text_document_inline_completion_async(ask("file:///nope.py", 0, 0))
    assert raised.value.code == INVALID_PARAMS
    assert "not open" in str(raised.value)


async def test_position_out_of_range_is_a_clear_error(client: LanguageClient) -> None:
    open_document(client, "file:///tmp/short.py", "x = 1\n")
    with pytest.raises(JsonRpcException) as raised:
        await client.text_document_inline_completion_async(ask("file:///tmp/short.py", 40, 0))
    assert raised.value.code == INVALID_PARAMS
    # A column past the end of a line means the end of the line, as the spec says.
    result = await client.text_document_inline_completion_async(ask("file:///tmp/short.py", 0, 99))
    assert isinstance(result, lsp.InlineCompletionList)


@pytest.mark.parametrize(
    ("uri", "language", "text"),
    [
        ("file:///tmp/empty.py", "python", ""),
        ("untitled:Untitled-1", "python", "def add(a, b):\n    "),
        ("file:///tmp/notes.weird", "klingon-script", "qapla' = "),
        ("file:///tmp/binary.bin", "plaintext", "\x00\x01\x02\ufffd\x7f"),
    ],
)
async def test_odd_documents_get_a_list_and_the_server_keeps_serving(
    client: LanguageClient, uri: str, language: str, text: str
) -> None:
    open_document(client, uri, text, language)
    lines = text.split("\n")
    result = await client.text_document_inline_completion_async(
        ask(uri, len(lines) - 1, len(lines[-1]))
    )
    assert isinstance(result, lsp.InlineCompletionList)
    assert (await status(client))["state"] == "ready"


async def test_automatic_trigger_inside_a_word_returns_nothing(client: LanguageClient) -> None:
    open_document(client, "file:///tmp/word.py", "import os\nos.path.jo(x)\n")
    result = await client.text_document_inline_completion_async(
        ask("file:///tmp/word.py", 1, 9, lsp.InlineCompletionTriggerKind.Automatic)
    )
    assert isinstance(result, lsp.InlineCompletionList) and not result.items


async def test_invalid_settings_fall_back_and_the_user_is_told(client: LanguageClient) -> None:
    shown = len(client.messages)
    client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(
            settings={"copilot": {"temperature": "very hot", "maxNewTokens": -5}}
        )
    )
    for _ in range(50):
        if len(client.messages) >= shown + 2:
            break
        await asyncio.sleep(0.05)
    text = " ".join(message.message for message in client.messages[shown:])
    assert "temperature" in text and "maxNewTokens" in text
    assert (await status(client))["state"] == "ready"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module")
async def utf8_client(lsp_client: LanguageClient):
    """A client that prefers UTF-8 positions and sends bad initialization options."""
    result = await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=capabilities(["utf-8", "utf-16"]),
            initialization_options={"model": "fast", "maxNewTokens": "lots"},
        )
    )
    lsp_client.server_capabilities = result.capabilities  # type: ignore[attr-defined]
    assert (await wait_until_settled(lsp_client))["state"] == "ready"
    yield
    await lsp_client.shutdown_session()


async def test_utf8_is_negotiated_and_used(utf8_client: LanguageClient) -> None:
    assert utf8_client.server_capabilities.position_encoding == "utf-8"  # type: ignore[attr-defined]
    assert any("maxNewTokens" in message.message for message in utf8_client.messages)
    current = await status(utf8_client)
    assert current["model"] == "fast"
    uri = "file:///tmp/cjk.py"
    text = 'def 挨拶(名前):\n    return "こんにちは" + 名前 + '
    open_document(utf8_client, uri, text)
    column = len(text.split("\n")[1].encode("utf-8"))
    result = await utf8_client.text_document_inline_completion_async(ask(uri, 1, column))
    assert isinstance(result, lsp.InlineCompletionList) and result.items
    assert result.items[0].range.start == lsp.Position(line=1, character=column)
