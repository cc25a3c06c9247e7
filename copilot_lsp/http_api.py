"""`copilot-lsp http`: a small JSON API for tools that cannot speak LSP.

``POST /complete`` and ``POST /generate-tests`` run the same features as the language
server; ``GET /openapi.json`` describes them; ``GET /health`` says whether the model is
loaded. Standard library only (``http.server``): one thread per connection, the model
behind one lock, at most ``max_concurrency`` requests admitted at a time (others get
429), bodies above ``max_body_bytes`` refused (413). A bearer token is required when
the server listens on anything but loopback.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from copilot_lsp import __version__
from copilot_lsp.backends.base import Backend, BackendError, CancelToken, GenerationOptions
from copilot_lsp.features import test_generation
from copilot_lsp.features.inline_completion import CompletionRequest, complete
from copilot_lsp.rpc_guard import is_loopback

log = logging.getLogger(__name__)
TOKEN_ENV = "COPILOT_LSP_HTTP_TOKEN"
LANGUAGES = {
    "python": ("python", ".py"),
    "go": ("go", ".go"),
    "javascript": ("javascript", ".js"),
    "js": ("javascript", ".js"),
    "typescript": ("typescript", ".ts"),
    "ts": ("typescript", ".ts"),
}
"""Accepted ``lang`` values (case-insensitive) -> (language, file suffix)."""
MAX_CANDIDATES = 4
MAX_NEW_TOKENS = 1024


class RequestError(ValueError):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class HttpConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    """Bearer token clients must send; required unless ``host`` is loopback."""
    max_body_bytes: int = 1 << 20
    max_concurrency: int = 4
    """Requests admitted at the same time (they queue for the model); more get 429."""
    max_new_tokens: int = 128


def check_config(config: HttpConfig) -> None:
    """Refuse to start an open server on a network interface, or one that would refuse
    every request."""
    if not is_loopback(config.host) and not config.token:
        raise ValueError(
            f"listening on {config.host} needs a token: pass --auth TOKEN or set ${TOKEN_ENV}"
        )
    if config.max_body_bytes < 1 or config.max_concurrency < 1:
        raise ValueError("--max-body-bytes and --max-concurrency must be at least 1")
    if not 1 <= config.max_new_tokens <= MAX_NEW_TOKENS:
        raise ValueError(f"--max-new-tokens must be 1..{MAX_NEW_TOKENS}")


_REQUIRED: Any = object()


def _field(body: dict[str, Any], name: str, kind: type, default: Any = _REQUIRED) -> Any:
    value = body.get(name)
    if value is None:
        if default is _REQUIRED:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"missing field {name!r}")
        return default
    if isinstance(value, bool) or not isinstance(value, kind):
        raise RequestError(HTTPStatus.BAD_REQUEST, f"field {name!r} must be {kind.__name__}")
    return value


def _language(body: dict[str, Any], required: bool) -> tuple[str, str]:
    lang = body.get("lang")
    if lang is None and not required:
        return "", ""
    if not isinstance(lang, str) or lang.lower() not in LANGUAGES:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            f"field 'lang' must be one of {', '.join(sorted({k.title() for k in LANGUAGES}))}",
        )
    return LANGUAGES[lang.lower()]


class Engine:
    """The model and the features, one request at a time."""

    def __init__(self, backend: Backend, config: HttpConfig) -> None:
        self.backend = backend
        self.config = config
        self._lock = threading.Lock()

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        language, _ = _language(body, required=False)
        prompt = _field(body, "prompt", str)
        suffix = _field(body, "suffix", str, "")
        n = _field(body, "n", int, 1)
        max_new_tokens = _field(body, "max_new_tokens", int, self.config.max_new_tokens)
        if not 1 <= n <= MAX_CANDIDATES:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"'n' must be 1..{MAX_CANDIDATES}")
        if not 1 <= max_new_tokens <= MAX_NEW_TOKENS:
            raise RequestError(
                HTTPStatus.BAD_REQUEST, f"'max_new_tokens' must be 1..{MAX_NEW_TOKENS}"
            )
        request = CompletionRequest(
            prefix=prompt, suffix=suffix, invoked=True, language_id=language
        )
        options = GenerationOptions(max_new_tokens=max_new_tokens, temperature=0.0)
        started = time.perf_counter()
        with self._lock:
            result = complete(self.backend, request, options, CancelToken(), candidates=n)
        texts = [candidate.text for candidate in result.candidates]
        kind = result.kind.value
        return {
            "candidates": [{"text": text} for text in texts if text],
            "kind": kind,
            "model": Path(self.backend.model_path).name,
            "seconds": round(time.perf_counter() - started, 3),
        }

    def generate_tests(self, body: dict[str, Any]) -> dict[str, Any]:
        language, suffix = _language(body, required=True)
        source = _field(body, "source", str)
        name = Path(_field(body, "path", str, f"module{suffix}")).name or f"module{suffix}"
        if Path(name).suffix.lower() != suffix and not (
            language == "javascript" and name.endswith((".mjs", ".cjs", ".jsx"))
        ):
            name = Path(name).stem + suffix
        symbol_name = body.get("symbol")
        line = body.get("line")
        if symbol_name is not None and not isinstance(symbol_name, str):
            raise RequestError(HTTPStatus.BAD_REQUEST, "field 'symbol' must be str")
        if line is not None and (isinstance(line, bool) or not isinstance(line, int) or line < 0):
            raise RequestError(HTTPStatus.BAD_REQUEST, "field 'line' must be a 0-based int")
        if line is None:
            line = _definition_line(source, symbol_name, language)
        lines = source.split("\n")
        if line >= len(lines):
            raise RequestError(HTTPStatus.BAD_REQUEST, "field 'line' is past the end of 'source'")
        column = len(lines[line]) - len(lines[line].lstrip(" \t"))
        # A path that exists nowhere: the API never reads or writes the server's files.
        virtual = Path("/nonexistent/copilot-lsp-http") / name
        started = time.perf_counter()
        try:
            with self._lock:
                result = test_generation.generate_tests(
                    self.backend,
                    virtual,
                    source,
                    line,
                    column,
                    CancelToken(),
                    None,
                    read=lambda path: None,
                )
        except test_generation.TestGenerationError as error:
            raise RequestError(HTTPStatus.UNPROCESSABLE_ENTITY, str(error)) from None
        return {
            "path": result.test_path.name,
            "test_name": result.test_name,
            "code": result.text,
            "seconds": round(time.perf_counter() - started, 3),
        }


def _definition_line(source: str, name: str | None, language: str) -> int:
    """The 0-based line of ``name``'s definition (the first definition when no name)."""
    keyword = {"python": r"(?:async\s+)?(?:def|class)", "go": r"func(?:\s*\([^)]*\))?"}.get(
        language, r"(?:export\s+)?(?:async\s+)?(?:function|class|const|let)"
    )
    target = rf"{re.escape(name)}\b" if name else r"[A-Za-z]"
    match = re.search(rf"^[ \t]*{keyword}\s+{target}", source, re.M)
    if match is None:
        what = f"no definition of {name!r}" if name else "no function or class"
        raise RequestError(HTTPStatus.UNPROCESSABLE_ENTITY, f"{what} in 'source'")
    return source[: match.start()].count("\n")


def openapi_document() -> dict[str, Any]:
    error = {"$ref": "#/components/schemas/Error"}
    errors = {
        str(code): {"description": text, "content": {"application/json": {"schema": error}}}
        for code, text in (
            (400, "malformed request"),
            (401, "missing or wrong bearer token"),
            (413, "body too large"),
            (422, "nothing to generate for this input"),
            (429, "too many requests in flight"),
            (503, "the model failed"),
        )
    }

    def operation(summary: str, request: str, response: str) -> dict[str, Any]:
        return {
            "summary": summary,
            "security": [{"bearer": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{request}"}}
                },
            },
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{response}"}}
                    },
                },
                **errors,
            },
        }

    lang = {"type": "string", "enum": ["Python", "Go", "JavaScript", "TypeScript"]}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "copilot-lsp HTTP API",
            "version": __version__,
            "description": "Code completion and unit-test generation from a local model.",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "CompleteRequest": {
                    "type": "object",
                    "required": ["prompt"],
                    "properties": {
                        "lang": lang,
                        "prompt": {"type": "string", "description": "text before the cursor"},
                        "suffix": {"type": "string", "description": "text after the cursor"},
                        "n": {"type": "integer", "minimum": 1, "maximum": MAX_CANDIDATES},
                        "max_new_tokens": {"type": "integer", "minimum": 1, "maximum": 1024},
                    },
                },
                "CompleteResponse": {
                    "type": "object",
                    "properties": {
                        "candidates": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"text": {"type": "string"}},
                            },
                        },
                        "kind": {"type": "string", "enum": ["none", "single-line", "multi-line"]},
                        "model": {"type": "string"},
                        "seconds": {"type": "number"},
                    },
                },
                "GenerateTestsRequest": {
                    "type": "object",
                    "required": ["lang", "source"],
                    "properties": {
                        "lang": lang,
                        "source": {"type": "string", "description": "the module's code"},
                        "path": {"type": "string", "description": "its file name (for imports)"},
                        "symbol": {"type": "string", "description": "function or class name"},
                        "line": {"type": "integer", "description": "0-based line in it"},
                    },
                },
                "GenerateTestsResponse": {
                    "type": "object",
                    "properties": {
                        "path": {"type": "string", "description": "the test file's name"},
                        "test_name": {"type": "string"},
                        "code": {"type": "string", "description": "the whole test file"},
                        "seconds": {"type": "number"},
                    },
                },
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
            },
        },
        "paths": {
            "/complete": {
                "post": operation(
                    "Complete code at the cursor", "CompleteRequest", "CompleteResponse"
                )
            },
            "/generate-tests": {
                "post": operation(
                    "Write a unit test file for a function",
                    "GenerateTestsRequest",
                    "GenerateTestsResponse",
                )
            },
            "/health": {
                "get": {"summary": "Liveness", "responses": {"200": {"description": "OK"}}}
            },
            "/openapi.json": {
                "get": {"summary": "This document", "responses": {"200": {"description": "OK"}}}
            },
        },
    }


Route = Callable[[dict[str, Any]], dict[str, Any]]


def make_handler(engine: Engine, config: HttpConfig) -> type[BaseHTTPRequestHandler]:
    admitted = threading.BoundedSemaphore(config.max_concurrency)
    routes: dict[str, Route] = {
        "/complete": engine.complete,
        "/generate-tests": engine.generate_tests,
    }
    spec = json.dumps(openapi_document()).encode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        server_version = f"copilot-lsp/{__version__}"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            log.info("%s " + format, self.address_string(), *args)

        def _send(self, status: HTTPStatus, payload: bytes, extra: dict[str, str] | None = None):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def _json(self, status: HTTPStatus, value: Any, extra: dict[str, str] | None = None):
            self._send(status, json.dumps(value).encode("utf-8"), extra)

        def _authorized(self) -> bool:
            if not config.token:
                return True
            header = self.headers.get("Authorization", "")
            scheme, _, given = header.partition(" ")
            return scheme.lower() == "bearer" and hmac.compare_digest(
                given.strip().encode(), config.token.encode()
            )

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/openapi.json":
                self._send(HTTPStatus.OK, spec)
            elif path == "/health":
                self._json(HTTPStatus.OK, {"status": "ok", "version": __version__})
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no route GET {path}"})

        def _not_allowed(self) -> None:
            self.close_connection = True
            allowed = "POST" if urlsplit(self.path).path in routes else "GET"
            self._json(
                HTTPStatus.METHOD_NOT_ALLOWED,
                {"error": f"{self.command} is not allowed here"},
                {"Allow": allowed},
            )

        do_PUT = do_DELETE = do_PATCH = _not_allowed

        def do_POST(self) -> None:
            route = routes.get(urlsplit(self.path).path)
            length_header = self.headers.get("Content-Length")
            if not self._authorized():
                self.close_connection = True
                self._json(
                    HTTPStatus.UNAUTHORIZED,
                    {"error": "a valid bearer token is required"},
                    {"WWW-Authenticate": "Bearer"},
                )
                return
            if route is None:
                self.close_connection = True
                self._json(
                    HTTPStatus.NOT_FOUND, {"error": f"no route POST {urlsplit(self.path).path}"}
                )
                return
            if length_header is None or not length_header.isdigit():
                self.close_connection = True
                self._json(HTTPStatus.LENGTH_REQUIRED, {"error": "Content-Length is required"})
                return
            length = int(length_header)
            if length > config.max_body_bytes:
                self.close_connection = True
                self._json(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    {"error": f"body over {config.max_body_bytes} bytes"},
                )
                return
            raw = self.rfile.read(length)
            if not admitted.acquire(blocking=False):
                self._json(
                    HTTPStatus.TOO_MANY_REQUESTS,
                    {"error": "too many requests in flight"},
                    {"Retry-After": "1"},
                )
                return
            try:
                try:
                    body = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    raise RequestError(HTTPStatus.BAD_REQUEST, "body is not JSON") from None
                if not isinstance(body, dict):
                    raise RequestError(HTTPStatus.BAD_REQUEST, "body must be a JSON object")
                self._json(HTTPStatus.OK, route(body))
            except RequestError as error:
                self._json(error.status, {"error": str(error)})
            except BackendError as error:
                self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": str(error)})
            except Exception as error:  # one bad request never takes the server down
                log.exception("request failed")
                self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"internal error: {error}"})
            finally:
                admitted.release()

    return Handler


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True


class _HttpServer6(_HttpServer):
    address_family = socket.AF_INET6


def create_http_server(backend: Backend, config: HttpConfig) -> ThreadingHTTPServer:
    check_config(config)
    server_class = _HttpServer6 if ":" in config.host else _HttpServer  # e.g. ::1
    return server_class((config.host, config.port), make_handler(Engine(backend, config), config))


def token_from(argument: str | None) -> str | None:
    return argument or os.environ.get(TOKEN_ENV) or None
