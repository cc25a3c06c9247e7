"""Typing-through and the accept signal through the real server (fast model)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from copilot_lsp.cli import main as cli_main
from copilot_lsp.usage import read_events
from tests.e2e.conftest import SERVER, ask, capabilities, open_document, status, wait_until_settled

pytestmark = pytest.mark.model
STATE_DIR = Path(tempfile.mkdtemp(prefix="copilot-lsp-state-"))
LOG = STATE_DIR / "usage.jsonl"
AUTOMATIC = lsp.InlineCompletionTriggerKind.Automatic


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=SERVER, server_env={**os.environ, "COPILOT_LSP_STATE_DIR": str(STATE_DIR)}
    ),
    scope="module",
)
async def flow_client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=capabilities(),
            initialization_options={"model": "fast", "threads": 1, "precompute": True},
        )
    )
    assert (await wait_until_settled(lsp_client))["state"] == "ready"
    yield
    await lsp_client.shutdown_session()


async def idle(client: LanguageClient) -> dict:
    """Status once no generation (precompute included) is queued or running."""
    for _ in range(600):
        await asyncio.sleep(0.2)  # a precompute waits a moment before it starts
        current = await status(client)
        if current["generationsInFlight"] == 0:
            return current
    raise TimeoutError("generations still running after 2 minutes")


def insert(client: LanguageClient, uri: str, version: int, line: int, column: int, text: str):
    where = lsp.Position(line=line, character=column)
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                lsp.TextDocumentContentChangePartial(
                    range=lsp.Range(start=where, end=where), text=text
                )
            ],
        )
    )


async def test_typing_through_and_accept(flow_client: LanguageClient, capsys) -> None:
    uri = "untitled:flow.py"
    head = "def circle_area(radius):\n    return "
    open_document(flow_client, uri, head + "\n")
    first = await flow_client.text_document_inline_completion_async(ask(uri, 1, 11))
    assert isinstance(first, lsp.InlineCompletionList) and first.items
    item = first.items[0]
    assert item.command is not None and item.command.command == "copilot.accepted"
    suggestion_id = item.command.arguments[0]
    text = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
    assert len(text) >= 3, text

    # The user types the first two characters of the ghost text: the rest comes back at
    # once, as the same suggestion, without a model call.
    insert(flow_client, uri, 2, 1, 11, text[:2])
    before = (await status(flow_client))["answers"]
    typed = await flow_client.text_document_inline_completion_async(
        ask(uri, 1, 13, trigger=AUTOMATIC)
    )
    assert typed.items and typed.items[0].insert_text == text[2:]
    assert list(typed.items[0].command.arguments) == [suggestion_id]
    after = (await status(flow_client))["answers"]
    assert after.get("typing", 0) == before.get("typing", 0) + 1
    assert after.get("model", 0) == before.get("model", 0)

    await flow_client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="copilot.accepted", arguments=[suggestion_id])
    )
    events = read_events(LOG)
    assert any(e["event"] == "accepted" and e["id"] == suggestion_id for e in events)
    assert {e["source"] for e in events if e["event"] == "completion"} >= {"model", "typing"}
    assert all("text" not in e for e in events)

    assert cli_main(["stats", "--log", str(LOG)]) == 0
    assert "acceptance rate: 100.0%" in capsys.readouterr().out


async def test_accept_without_an_id_is_a_clear_error(flow_client: LanguageClient) -> None:
    for arguments in ([], [42]):
        with pytest.raises(JsonRpcException, match="argument"):
            await flow_client.workspace_execute_command_async(
                lsp.ExecuteCommandParams(command="copilot.accepted", arguments=arguments)
            )
    assert (await status(flow_client))["state"] == "ready"


async def test_the_next_line_is_ready_when_the_user_gets_there(
    flow_client: LanguageClient,
) -> None:
    """After a suggestion, the server computes the next line's in idle time: once the user
    has typed it, pressed Enter and started the next line, the rest comes without the model."""
    uri = "untitled:next_line.py"
    head = "def mean(values):\n    total = "
    tail = "\n    return total / len(values)\n"
    open_document(flow_client, uri, head + tail)
    before = (await idle(flow_client))["counters"]
    first = await flow_client.text_document_inline_completion_async(
        ask(uri, 1, 12, trigger=AUTOMATIC)
    )
    assert isinstance(first, lsp.InlineCompletionList) and first.items
    text = first.items[0].insert_text
    assert text == "0", text
    counters = (await idle(flow_client))["counters"]
    assert counters["precomputeCalls"] == before["precomputeCalls"] + 1

    # The user types the suggestion, presses Enter (the editor indents the new line) and
    # starts the loop the model saw coming.
    insert(flow_client, uri, 2, 1, 12, "0\n    fo")
    typed = await flow_client.text_document_inline_completion_async(
        ask(uri, 2, 6, trigger=AUTOMATIC)
    )
    assert isinstance(typed, lsp.InlineCompletionList) and typed.items
    rest = typed.items[0].insert_text
    assert isinstance(rest, str) and rest.startswith("r ") and rest.endswith(":"), rest
    after = (await idle(flow_client))["counters"]
    assert after["modelCalls"] == before["modelCalls"] + 1, "the next line needed no model"
    assert after["typingThrough"] == before["typingThrough"] + 1
    assert after["precomputeCalls"] == before["precomputeCalls"] + 2  # and the line after


async def test_a_block_comes_a_first_line_first_and_the_rest_by_typing_through(
    flow_client: LanguageClient,
) -> None:
    """At an empty line in a body the model writes a block: the answer is its first line as
    soon as that line is written; the rest is there once the user has typed it and Enter."""
    uri = "untitled:block.py"
    head = (
        "def count_words(text):\n"
        '    """Count how often each word occurs in text."""\n'
        "    counts = {}\n"
        "    "
    )
    open_document(flow_client, uri, head + "\n")
    before = (await idle(flow_client))["counters"]
    first = await flow_client.text_document_inline_completion_async(
        ask(uri, 3, 4, trigger=AUTOMATIC)
    )
    assert isinstance(first, lsp.InlineCompletionList) and first.items
    line = first.items[0].insert_text
    assert isinstance(line, str) and line.startswith("for ") and "\n" not in line, line
    await idle(flow_client)  # the model finishes the block meanwhile

    # The user types the line and Enter; the editor indents the loop's body.
    insert(flow_client, uri, 2, 3, 4, line + "\n        ")
    rest = await flow_client.text_document_inline_completion_async(
        ask(uri, 4, 8, trigger=AUTOMATIC)
    )
    assert isinstance(rest, lsp.InlineCompletionList) and rest.items
    after = (await idle(flow_client))["counters"]
    assert after["modelCalls"] == before["modelCalls"] + 1, "one call wrote the whole block"
    assert after["typingThrough"] == before["typingThrough"] + 1


async def test_typing_on_evaluates_only_the_new_text_not_the_code_below(
    flow_client: LanguageClient,
) -> None:
    """The code below the cursor is in the prompt, yet a request a few keystrokes later,
    which needs the model again, only evaluates what was typed: the prompt before the FIM
    middle is the same, and the typed text is at its end."""
    uri = "untitled:below.py"
    head = "def mean(values):\n    total = "
    below = "".join(f"\n    check_{n}(values, total, {n})" for n in range(6))
    open_document(flow_client, uri, head + below + "\n    return total / len(values)\n")
    await idle(flow_client)
    first = await flow_client.text_document_inline_completion_async(
        ask(uri, 1, 12, trigger=AUTOMATIC)
    )
    assert isinstance(first, lsp.InlineCompletionList) and first.items
    shown = (await idle(flow_client))["lastGeneration"]
    # Text the suggestion did not foresee: typing-through cannot answer, the model must.
    insert(flow_client, uri, 2, 1, 12, "math.fsum(v")
    before = (await idle(flow_client))["counters"]
    await flow_client.text_document_inline_completion_async(ask(uri, 1, 23, trigger=AUTOMATIC))
    status_now = await idle(flow_client)
    assert status_now["counters"]["modelCalls"] == before["modelCalls"] + 1
    generation = status_now["lastGeneration"]
    assert generation["promptTokens"] >= shown["promptTokens"] >= 60
    assert generation["promptTokens"] - generation["reusedPromptTokens"] <= 6, generation
