"""JSON-RPC hardening on top of pygls: every request gets an answer, bad input never
reaches the user as an error popup, and logs never carry document text.

pygls drops a request whose params do not fit the LSP types (the client then waits
forever), ignores unparsable JSON, and logs full message bodies (source code) when a
handler fails. The pieces here close those gaps without touching pygls itself.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from typing import Any

from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
)

log = logging.getLogger(__name__)
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
UNAUTHORIZED = -32001
TOKEN_ENV = "COPILOT_LSP_TOKEN"
"""The environment variable that holds the token a network client must present."""
MAX_BODY_BYTES = 256 * 1024 * 1024
"""Bodies announced larger than this are read and dropped instead of buffered."""


class _Answered:
    """Stands in for a message that was already answered with an error."""


ANSWERED = _Answered()


def _valid_id(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


class GuardedProtocol:
    """Mix into the LanguageServerProtocol subclass (before it in the bases)."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            structured = super().structure_message(data)  # type: ignore[misc]
        except JsonRpcException as error:
            if "method" not in data or not _valid_id(data.get("id")):
                raise  # a notification or a response: nobody waits for an answer
            method = data["method"]
            if self._locked():
                send_error(
                    self, data["id"], UNAUTHORIZED, "unauthorized: initialize with the token"
                )
                return ANSWERED
            try:
                self._get_handler(method)  # type: ignore[attr-defined]
                answer: JsonRpcException = JsonRpcInvalidParams(
                    f"invalid params for {method!r}" if isinstance(method, str) else "bad method"
                )
            except JsonRpcMethodNotFound as unknown:
                answer = unknown
            except Exception:
                answer = error
            log.warning("answered a malformed %r request with %s", method, answer.code)
            self._send_response(data["id"], None, answer.to_response_error())  # type: ignore[attr-defined]
            return ANSWERED
        if _valid_id(data.get("id")) and "method" in data and not hasattr(structured, "id"):
            # A notification method sent with an id: pygls would run it as a notification
            # and leave the client waiting for an answer that never comes.
            log.warning("answered notification %r sent as a request", data["method"])
            send_error(self, data["id"], INVALID_REQUEST, "a notification cannot be a request")
            return ANSWERED
        return structured

    _authenticated = False

    def handle_message(self, message: Any) -> None:
        if message is ANSWERED:
            return
        if self._locked() and not self._admit(message):
            return
        if not hasattr(message, "jsonrpc"):
            # Valid JSON but no JSON-RPC message (an array, a number, an object without
            # "jsonrpc"): answer InvalidRequest when it carries an id, as the spec asks.
            request_id = message.get("id") if isinstance(message, dict) else None
            log.warning("ignored a JSON value that is not a JSON-RPC message")
            error = JsonRpcInvalidRequest("not a JSON-RPC 2.0 message")
            send_error(
                self, request_id if _valid_id(request_id) else None, error.code, error.message
            )
            return
        if getattr(self, "_shutdown", False) and getattr(message, "method", "exit") != "exit":
            # pygls drops everything after `shutdown` without a word; LSP asks that a
            # request then gets InvalidRequest (a notification is dropped).
            request_id = getattr(message, "id", None)
            if _valid_id(request_id):
                send_error(self, request_id, INVALID_REQUEST, "the server is shut down")
            return
        super().handle_message(message)  # type: ignore[misc]

    def _locked(self) -> bool:
        return bool(self._token()) and not self._authenticated

    def _token(self) -> str | None:
        return getattr(getattr(self, "_server", None), "auth_token", None)

    def _admit(self, message: Any) -> bool:
        """With a token configured, nothing but an `initialize` carrying it gets through."""
        token = self._token() or ""
        method = getattr(message, "method", None)
        if method == "initialize":
            options = getattr(message.params, "initialization_options", None)
            given = options.get("token") if isinstance(options, dict) else None
            given = getattr(options, "token", given)
            if isinstance(given, str) and hmac.compare_digest(given.encode(), token.encode()):
                self._authenticated = True
                return True
        request_id = getattr(message, "id", None)
        log.warning("refused an unauthenticated %r message", method)
        if _valid_id(request_id) and method is not None:
            send_error(self, request_id, UNAUTHORIZED, "unauthorized: initialize with the token")
        return False


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def send_error(protocol: Any, request_id: Any, code: int, message: str) -> None:
    protocol._send_data(
        {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    )


def report_protocol_error(protocol: Any, error: Exception) -> bool:
    """Answer an unparsable message with a ParseError; True when ``error`` was one.

    Unparsable frames are the client's bug, not the user's: no popup, a log line only.
    """
    if isinstance(error, (json.JSONDecodeError, UnicodeDecodeError)):
        log.warning("unparsable message: %s", type(error).__name__)
        send_error(protocol, None, PARSE_ERROR, f"parse error: {type(error).__name__}")
        return True
    if isinstance(error, JsonRpcException):  # pygls has logged it (see RefusalFilter)
        log.debug("refused: %s", error.message)
        return True
    return False


class GuardedReader:
    """stdin for pygls, with a bounded header line and bounded bodies.

    A frame announcing a gigantic Content-Length would make pygls allocate it in one
    read; instead the bytes are consumed in chunks and the frame becomes a parse error.
    """

    def __init__(self, stream: Any, max_body: int = MAX_BODY_BYTES) -> None:
        self._stream = stream
        self._max_body = max_body

    def readline(self) -> bytes:
        return self._stream.readline(64 * 1024)

    def read(self, size: int) -> bytes:
        if size <= self._max_body:
            return self._stream.read(size)
        log.warning("dropping a frame of %d bytes (limit %d)", size, self._max_body)
        left = size
        while left > 0 and (chunk := self._stream.read(min(left, 1 << 20))):
            left -= len(chunk)
        return b"\0" if left == 0 else b""


class RefusalFilter(logging.Filter):
    """pygls logs a whole traceback for each request a handler refuses on purpose
    (InvalidParams for a line outside the document, ...). That is the client's mistake and
    the answer says so: one warning line, without the traceback, is enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        refused = isinstance(error, JsonRpcException) and not isinstance(
            error, JsonRpcInternalError
        )
        if record.name.startswith("pygls") and refused:
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = f"{record.msg} (answered {type(error).__name__}: %s)"
            record.args = (*(record.args or ()), error.message)
        return True


class RedactingFilter(logging.Filter):
    """Keep source text out of the logs: arguments that are long strings, message
    objects or containers are logged as their size or type only."""

    def __init__(self, limit: int = 64) -> None:
        super().__init__()
        self._limit = limit

    def _safe(self, value: Any) -> Any:
        if isinstance(value, (int, float, bool)) or value is None:
            return value
        if isinstance(value, str):
            short = len(value) <= self._limit and not value.lstrip().startswith(("{", "["))
            return value if short else f"<{len(value)} chars>"
        if isinstance(value, BaseException):
            return f"{type(value).__name__}"
        return f"<{type(value).__name__}>"

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("pygls") and record.args:
            arguments = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(self._safe(value) for value in arguments)
        return True
