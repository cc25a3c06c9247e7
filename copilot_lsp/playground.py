"""`copilot-lsp playground`: a local web page with the Monaco editor talking to the server.

One HTTP port serves the bundled page (built from ``editor-extension/playground``) and a
WebSocket at ``/lsp``. Each WebSocket connection gets its own ``copilot-lsp serve`` child
process over stdio, the same transport editors use: the bridge only adds and strips the
``Content-Length`` framing, one JSON-RPC message per WebSocket text frame (the framing of
``serve --ws``). A child per connection keeps tabs independent and lets a closed tab take
its model with it; pygls's own WebSocket server ends after its first connection.

Bound to 127.0.0.1 with a random token by default: the page, its settings and the
WebSocket all need ``?token=``, so another local user or a web page cannot drive the model.
"""

from __future__ import annotations

import asyncio
import hmac
import http
import json
import logging
import mimetypes
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_STATIC = REPO_ROOT / "editor-extension" / "playground" / "dist"
DEFAULT_EXAMPLES = REPO_ROOT / "examples"
EXAMPLE_SUFFIXES = {".py": "python", ".js": "javascript", ".ts": "typescript", ".go": "go"}
MAX_EXAMPLE_BYTES = 64 * 1024


class PlaygroundError(Exception):
    """The playground cannot start (for example: the page was never built)."""


@dataclass
class PlaygroundConfig:
    host: str = "127.0.0.1"
    port: int = 0
    """0 picks a free port."""
    token: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    settings: dict[str, Any] = field(default_factory=dict)
    """Sent by the page as ``initializationOptions`` (for example ``{"model": "fast"}``)."""
    static_dir: Path = DEFAULT_STATIC
    examples_dir: Path = DEFAULT_EXAMPLES
    server_command: list[str] = field(
        default_factory=lambda: [sys.executable, "-m", "copilot_lsp", "serve"]
    )


def encode_frame(message: str | bytes) -> bytes:
    """One JSON-RPC message with the LSP base-protocol header. A binary WebSocket frame
    passes as it is: the server answers bytes that are not UTF-8 with a ParseError."""
    body = message.encode("utf-8") if isinstance(message, str) else message
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def read_frame(stream: asyncio.StreamReader) -> str | None:
    """The next message body from an LSP byte stream; None at end of stream."""
    length: int | None = None
    while True:
        line = await stream.readline()
        if not line:
            return None
        line = line.rstrip(b"\r\n")
        if not line:
            if length is None:
                continue  # stray blank line between messages
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            length = int(value.strip())
    body = await stream.readexactly(length or 0)
    return body.decode("utf-8")


def list_examples(root: Path) -> list[dict[str, str]]:
    """Small source files under ``root`` the page offers to open."""
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.rglob("*")):
        language = EXAMPLE_SUFFIXES.get(path.suffix)
        if language is None or not path.is_file() or path.stat().st_size > MAX_EXAMPLE_BYTES:
            continue
        found.append(
            {
                "name": path.relative_to(root).as_posix(),
                "language": language,
                "text": path.read_text(encoding="utf-8", errors="replace"),
            }
        )
    return found


class Playground:
    def __init__(self, config: PlaygroundConfig) -> None:
        if not (config.static_dir / "index.html").is_file():
            raise PlaygroundError(
                f"the playground page is not built ({config.static_dir}/index.html is missing);"
                " run `make playground` (needs Node.js and npm)"
            )
        self.config = config

    def _token_ok(self, query: str) -> bool:
        given = parse_qs(query).get("token", [""])[0]
        return hmac.compare_digest(given.encode(), self.config.token.encode())

    def _file(self, path: Path) -> Response:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
            kind += "; charset=utf-8"
        return _response(http.HTTPStatus.OK, path.read_bytes(), kind)

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Serve HTTP for everything but an authorised WebSocket upgrade on /lsp."""
        url = urlsplit(request.path)
        if url.path.startswith("/assets/"):
            # The bundle is public code: no token, so the page's own imports need none.
            return self._static(url.path.removeprefix("/"))
        if not self._token_ok(url.query):
            return _response(
                http.HTTPStatus.FORBIDDEN,
                b"copilot-lsp playground: missing or wrong ?token= (use the URL it printed)\n",
                "text/plain; charset=utf-8",
            )
        if url.path == "/lsp":
            if not _same_origin(request.headers):
                return _response(http.HTTPStatus.FORBIDDEN, b"cross-origin\n", "text/plain")
            return None  # continue the WebSocket handshake
        if url.path in ("/", "/index.html"):
            return self._static("index.html")
        if url.path == "/config.json":
            body = {"initializationOptions": self.config.settings}
            return _response(http.HTTPStatus.OK, json.dumps(body).encode(), "application/json")
        if url.path == "/examples.json":
            examples = list_examples(self.config.examples_dir)
            return _response(http.HTTPStatus.OK, json.dumps(examples).encode(), "application/json")
        return _response(http.HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

    def _static(self, relative: str) -> Response:
        root = self.config.static_dir.resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return _response(http.HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
        return self._file(path)

    async def bridge(self, websocket: ServerConnection) -> None:
        """Pump messages between one browser tab and its own language server process."""
        child = await asyncio.create_subprocess_exec(
            *self.config.server_command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert child.stdin is not None and child.stdout is not None
        log.info("connection %s: server pid %d", websocket.remote_address, child.pid)

        async def browser_to_server() -> None:
            async for message in websocket:
                child.stdin.write(encode_frame(message))
                await child.stdin.drain()

        async def server_to_browser() -> None:
            while (message := await read_frame(child.stdout)) is not None:
                await websocket.send(message)

        tasks = [
            asyncio.ensure_future(browser_to_server()),
            asyncio.ensure_future(server_to_browser()),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            # Whatever ended a pump, the tab's server process must end with it.
            for outcome in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(outcome, Exception) and not isinstance(
                    outcome, (ConnectionClosed, OSError)
                ):
                    log.warning("connection %s: %r", websocket.remote_address, outcome)
            await _stop(child)
            await websocket.close()
            log.info("connection %s closed", websocket.remote_address)

    async def run(self, ready: asyncio.Future[str] | None = None) -> None:
        config = self.config
        async with serve(
            self.bridge,
            config.host,
            config.port,
            process_request=self.process_request,
            max_size=16 * 1024 * 1024,
        ) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            url = f"http://{config.host}:{port}/?token={config.token}"
            if ready is not None:
                ready.set_result(url)
            await server.serve_forever()


def _response(status: http.HTTPStatus, body: bytes, content_type: str) -> Response:
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
        ]
    )
    return Response(status.value, status.phrase, headers, body)


def _same_origin(headers: Headers) -> bool:
    """A browser sends Origin with WebSocket upgrades; it must name the page's own host."""
    origin = headers.get("Origin")
    if origin is None:
        return True  # not a browser (tests, scripts): the token is the guard
    return urlsplit(origin).netloc == headers.get("Host", "")


async def _stop(child: asyncio.subprocess.Process) -> None:
    if child.stdin is not None and not child.stdin.is_closing():
        child.stdin.close()
    try:
        await asyncio.wait_for(child.wait(), timeout=5)
    except TimeoutError:
        child.terminate()
        try:
            await asyncio.wait_for(child.wait(), timeout=5)
        except TimeoutError:
            child.kill()
            await child.wait()


def run_playground(config: PlaygroundConfig, open_browser: bool = False) -> int:
    """Serve until interrupted; prints the URL (with its token) on stdout."""
    try:
        playground = Playground(config)
    except PlaygroundError as error:
        print(f"copilot-lsp: {error}", file=sys.stderr)
        return 1

    async def main() -> None:
        ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        server = asyncio.ensure_future(playground.run(ready))
        await asyncio.wait([ready, server], return_when=asyncio.FIRST_COMPLETED)
        if ready.done():
            url = ready.result()
            print(f"copilot-lsp playground: {url}", flush=True)
            if open_browser:
                import webbrowser

                webbrowser.open(url)
        await server

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        return 0
    except OSError as error:
        print(f"copilot-lsp: playground cannot listen: {error}", file=sys.stderr)
        return 1
    return 0
