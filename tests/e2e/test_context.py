"""The context engine through the real server: workspace folders, events, snippets."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import SERVER, ask, capabilities, open_document, status, wait_until_settled

pytestmark = pytest.mark.model
EXAMPLE = Path(__file__).parents[2] / "examples" / "typescript"
WORKSPACE: dict[str, Path] = {}


async def indexed_files(client: LanguageClient, wanted: int, timeout: float = 30) -> int:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        count = (await status(client))["indexedFiles"]
        if count == wanted or asyncio.get_running_loop().time() > deadline:
            return count
        await asyncio.sleep(0.1)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module")
async def client(lsp_client: LanguageClient, tmp_path_factory: pytest.TempPathFactory):
    """The fast model, a copy of examples/typescript as the workspace folder."""
    root = tmp_path_factory.mktemp("workspace") / "shop"
    shutil.copytree(EXAMPLE, root)
    WORKSPACE["root"] = root
    result = await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=capabilities(),
            initialization_options={"model": "fast"},
            workspace_folders=[lsp.WorkspaceFolder(uri=root.as_uri(), name="shop")],
        )
    )
    lsp_client.server_capabilities = result.capabilities  # type: ignore[attr-defined]
    assert (await wait_until_settled(lsp_client))["state"] == "ready"
    yield
    await lsp_client.shutdown_session()


async def test_imported_definitions_reach_the_prompt(client: LanguageClient) -> None:
    assert await indexed_files(client, 2) == 2
    order = WORKSPACE["root"] / "src" / "order.ts"
    text = order.read_text().replace("formatPrice(discount(price, percent))", "")
    open_document(client, order.as_uri(), text, "typescript")
    line = text.split("\n").index("  return prices.map((price) => );")
    await client.text_document_inline_completion_async(
        ask(order.as_uri(), line, len("  return prices.map((price) => "))
    )
    generation = (await status(client))["lastGeneration"]
    assert generation is not None and "src/pricing.ts" in generation["snippets"]


async def test_watched_file_and_save_events_update_the_index(client: LanguageClient) -> None:
    assert await indexed_files(client, 2) == 2
    created = WORKSPACE["root"] / "src" / "tax.ts"
    created.write_text("export const RATE = 0.2;\n")
    client.workspace_did_change_watched_files(
        lsp.DidChangeWatchedFilesParams(
            changes=[lsp.FileEvent(uri=created.as_uri(), type=lsp.FileChangeType.Created)]
        )
    )
    assert await indexed_files(client, 3) == 3
    created.unlink()
    client.workspace_did_change_watched_files(
        lsp.DidChangeWatchedFilesParams(
            changes=[lsp.FileEvent(uri=created.as_uri(), type=lsp.FileChangeType.Deleted)]
        )
    )
    assert await indexed_files(client, 2) == 2
    (WORKSPACE["root"] / "big.ts").write_text("export const X = 1;\n" * 20_000)
    client.text_document_did_save(
        lsp.DidSaveTextDocumentParams(
            text_document=lsp.TextDocumentIdentifier(uri=(WORKSPACE["root"] / "big.ts").as_uri())
        )
    )
    assert await indexed_files(client, 3, timeout=2) == 2  # over the size limit: not indexed
