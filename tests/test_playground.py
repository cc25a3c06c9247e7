"""`copilot-lsp playground`: token checks, static files, examples, LSP framing, and the
WebSocket bridge to a real `copilot-lsp serve` child (no model: initialize + copilot/status)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from copilot_lsp.playground import (
    Playground,
    PlaygroundConfig,
    PlaygroundError,
    encode_frame,
    list_examples,
    read_frame,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def static(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<title>playground</title>")
    (root / "assets" / "app.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("not served")
    return root


@pytest.fixture
async def playground(static: Path) -> AsyncIterator[tuple[str, PlaygroundConfig]]:
    config = PlaygroundConfig(
        token="sesame",
        settings={"model": "fast"},
        static_dir=static,
        examples_dir=REPO_ROOT / "examples",
    )
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(Playground(config).run(ready))
    url = await asyncio.wait_for(ready, 10)
    yield url.split("/?")[0], config
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def fetch(url: str) -> tuple[int, bytes, str]:
    def get() -> tuple[int, bytes, str]:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, response.read(), response.headers["Content-Type"]
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers["Content-Type"]

    return await asyncio.to_thread(get)


async def test_page_config_and_examples_need_the_token(playground) -> None:
    base, _ = playground
    for path in ("/", "/config.json", "/examples.json", "/?token=wrong"):
        status, body, _ = await fetch(base + path)
        assert status == 403, path
        assert b"token" in body
    status, body, kind = await fetch(base + "/?token=sesame")
    assert (status, body) == (200, b"<title>playground</title>")
    assert kind.startswith("text/html")
    status, body, _ = await fetch(base + "/config.json?token=sesame")
    assert json.loads(body) == {"initializationOptions": {"model": "fast"}}
    status, body, _ = await fetch(base + "/examples.json?token=sesame")
    names = [example["name"] for example in json.loads(body)]
    assert "python/textstats.py" in names and "javascript/cart.js" in names


async def test_assets_are_public_but_confined_to_the_bundle(playground) -> None:
    base, _ = playground
    status, body, kind = await fetch(base + "/assets/app.js")
    assert (status, body) == (200, b"console.log(1)")
    assert "javascript" in kind
    for path in ("/assets/../../secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/assets/nope.js"):
        status, _, _ = await fetch(base + path)
        assert status == 404, path


async def test_websocket_needs_the_token_and_the_same_origin(playground) -> None:
    base, _ = playground
    ws = base.replace("http", "ws", 1)
    with pytest.raises(InvalidStatus) as refused:
        async with connect(ws + "/lsp?token=wrong"):
            pass
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus):
        async with connect(ws + "/lsp?token=sesame", origin="http://evil.example"):
            pass


async def test_bridge_speaks_lsp_with_a_real_server(playground) -> None:
    base, _ = playground
    ws = base.replace("http", "ws", 1)
    async with connect(ws + "/lsp?token=sesame", origin=base) as socket:
        await socket.send(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {"processId": None, "rootUri": None, "capabilities": {}},
                }
            )
        )
        reply = json.loads(await asyncio.wait_for(socket.recv(), 60))
        assert reply["id"] == 1
        assert "inlineCompletionProvider" in reply["result"]["capabilities"]
        await socket.send(
            json.dumps({"jsonrpc": "2.0", "id": 2, "method": "copilot/status", "params": {}})
        )
        status = json.loads(await asyncio.wait_for(socket.recv(), 60))
        assert status["id"] == 2 and status["result"]["version"]


async def test_a_frame_that_is_not_utf8_gets_a_parse_error_and_the_tab_goes_on(playground) -> None:
    base, _ = playground
    ws = base.replace("http", "ws", 1)
    async with connect(ws + "/lsp?token=sesame", origin=base) as socket:
        await socket.send(b"\xff\xfe not UTF-8")
        reply = json.loads(await asyncio.wait_for(socket.recv(), 60))
        assert reply["error"]["code"] == -32700  # ParseError, from the tab's server
        await socket.send(
            json.dumps({"jsonrpc": "2.0", "id": 2, "method": "copilot/status", "params": {}})
        )
        status = json.loads(await asyncio.wait_for(socket.recv(), 60))
        assert status["id"] == 2 and status["result"]["version"]


async def test_frames_round_trip_through_the_lsp_header() -> None:
    stream = asyncio.StreamReader()
    messages = ['{"a": "ü"}', "{}", '{"text": "a\\r\\nb"}']
    for message in messages:
        stream.feed_data(encode_frame(message))
    stream.feed_eof()
    assert [await read_frame(stream) for _ in messages] == messages
    assert await read_frame(stream) is None


def test_list_examples_skips_other_files(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "notes.md").write_text("# no")
    (tmp_path / "big.js").write_text("x" * 100_000)
    assert list_examples(tmp_path) == [{"name": "a.py", "language": "python", "text": "x = 1\n"}]
    assert list_examples(tmp_path / "missing") == []


def test_unbuilt_page_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PlaygroundError, match="make playground"):
        Playground(PlaygroundConfig(static_dir=tmp_path))
    run = subprocess.run(
        [sys.executable, "-m", "copilot_lsp", "playground", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--token" in run.stdout and "--model" in run.stdout
