"""Any OpenAI-compatible ``/v1/completions`` server (vLLM, TGI, llama.cpp server, Ollama).

Standard library only. Answers are streamed (server-sent events), so closing the connection
on a cancel or a finished line stops the generation on the server too. Refused or
unreachable connections and 429/5xx answers are retried a bounded number of times (never a
request the server may already be working on); then the failure becomes a BackendError,
and the next request tries again (the server may be back).
"""

from __future__ import annotations

import contextlib
import email.utils
import errno
import functools
import http.client
import json
import math
import os
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from copilot_lsp.backends.base import (
    BackendError,
    CancelToken,
    FinishReason,
    Generation,
    GenerationOptions,
    StopCheck,
)
from copilot_lsp.decoding.stopping import cut_at_stop_text

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_WATCH_INTERVAL_S = 0.05
_CONNECTING = frozenset(
    {errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY, getattr(errno, "WSAEWOULDBLOCK", 0)}
    - {0}
)
"""What a non-blocking connect answers while it is under way (WSAEWOULDBLOCK on Windows)."""
_MAX_RETRY_WAIT_S = 5.0
"""The longest wait before a retry, whatever Retry-After asks for."""
_MAX_LINE_BYTES = 1 << 20
"""The longest line of a streamed answer (one event)."""
_MAX_BODY_BYTES = 8 << 20
"""The longest answer that is not streamed (the model list, a plain JSON completion)."""
_USERINFO = re.compile(r"^([^/?#@]*//)?[^/?#]*@")
_JSON_KINDS = {list: "an array", dict: "an object", str: "a string", int: "an integer"}


def without_userinfo(url: str) -> str:
    """``url`` without the ``user:password@`` part, to show and log it."""
    return _USERINFO.sub(lambda match: match.group(1) or "", url.strip(), count=1)


@dataclass(frozen=True)
class RemoteOptions:
    api_model: str = ""
    """Model name to request; empty: the first model the server lists."""
    api_key_env: str = "COPILOT_LSP_API_KEY"
    """Environment variable holding the API key (sent as a Bearer token when set)."""
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    """Longest wait for the next bytes of an answer."""
    max_retries: int = 2


class _Retryable(Exception):
    """A failure worth another try (connection refused or unreachable, 429, 5xx)."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class _Malformed(Exception):
    """The answer is not what an OpenAI-compatible server sends."""


class _Truncated(Exception):
    """The stream ended before ``[DONE]``."""


_READ_ERRORS = (OSError, http.client.HTTPException, BackendError, _Malformed, _Truncated)


def _api_key(env: str) -> str:
    """The key in the environment variable ``env`` without surrounding whitespace ('' when
    unset). A key that cannot be an HTTP header is refused; the message never shows it."""
    key = os.environ.get(env, "").strip()
    if not all(_header_safe(char) for char in key):
        raise BackendError(
            f"the API key in ${env} contains a control or non-Latin-1 character; "
            "set the variable to the key alone"
        )
    return key


def _header_safe(char: str) -> bool:
    code = ord(char)
    return 0x20 <= code <= 0xFF and not 0x7F <= code <= 0x9F


@dataclass(frozen=True)
class _Endpoint:
    scheme: str
    host: str
    port: int
    base_path: str

    @classmethod
    def parse(cls, url: str) -> _Endpoint:
        shown = without_userinfo(url)
        try:
            parts = urlsplit(url.strip())
        except ValueError:  # e.g. an unclosed [IPv6 bracket
            raise BackendError(f"server URL {shown!r} cannot be parsed") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BackendError(f"server URL must look like http://host:port, got {shown!r}")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as error:
            raise BackendError(f"bad port in server URL {shown!r}: {error}") from None
        path = parts.path.rstrip("/")
        if not all(0x20 < ord(char) < 0x7F for char in path):
            raise BackendError(f"server URL {shown!r} has a space or non-ASCII in its path")
        if path.endswith("/v1"):  # both http://host:8000 and http://host:8000/v1 are accepted
            path = path[: -len("/v1")]
        return cls(parts.scheme, parts.hostname, port, path)

    def connection(self, timeout: float) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return kind(self.host, self.port, timeout=timeout)

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{self.base_path}"


class _Watch:
    """Cuts the connection when the editor cancels or the time budget runs out (a connect
    under way polls :meth:`stopped`): a read blocked on the headers or the next event
    returns at once and the server sees the client leave. Holds the socket itself, because
    http.client lets go of it when the server answers ``Connection: close`` or HTTP/1.0."""

    def __init__(self, cancel: CancelToken, deadline: float | None) -> None:
        self.cancel = cancel
        self.deadline = deadline
        self.fired = threading.Event()
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="openai-cancel", daemon=True)

    def __enter__(self) -> _Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:  # the thread ends within one interval and fires no more
            self._closed, self._sock = True, None

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def stopped(self) -> bool:
        """Whether to give up: cancelled or out of time."""
        return self.fired.is_set() or self.cancel.cancelled or self.expired()

    def reason(self) -> FinishReason:
        return "cancelled" if self.cancel.cancelled else "time_budget"

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds``, never past the deadline; True when cancelled or out of time."""
        if self.deadline is not None:
            seconds = min(seconds, max(0.0, self.deadline - time.monotonic()))
        self.cancel.wait(seconds)
        return self.stopped()

    def attach(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self.fired.is_set():
                self._shutdown()

    def detach(self) -> None:
        """Before the socket is closed (its number may be reused at once)."""
        with self._lock:
            self._sock = None

    def _run(self) -> None:
        while True:
            stop = self.cancel.wait(_WATCH_INTERVAL_S) or self.expired()
            with self._lock:
                if self._closed:
                    return
                if stop:
                    self.fired.set()
                    self._shutdown()
                    return

    def _shutdown(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):  # the plain socket's: TLS state is left alone
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)


def _open_socket(
    watch: _Watch,
    address: tuple[str, int],
    timeout: float,
    source_address: tuple[str, int] | None = None,
) -> socket.socket:
    """socket.create_connection, but a cancel or the end of the time budget stops the
    connect at once rather than when it ends (up to the connect timeout). The socket is
    handed to the watch as soon as it is connected, so the TLS handshake is cut too."""
    host, port = address
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        try:
            if source_address:
                sock.bind(source_address)
            _connect_polled(sock, sockaddr, timeout, watch)
        except _Stopped:
            sock.close()
            raise
        except OSError as failed:
            sock.close()
            error = failed
            continue
        sock.settimeout(timeout)
        watch.attach(sock)
        return sock
    raise error or OSError(f"no address found for {host}")


class _Stopped(ConnectionAbortedError):
    """Cancelled or out of time while connecting."""


def _connect_polled(sock: socket.socket, address: Any, timeout: float, watch: _Watch) -> None:
    """A non-blocking connect, waited for a short interval at a time so that the watch is
    heard between them."""
    sock.setblocking(False)
    code = sock.connect_ex(address)
    deadline = time.monotonic() + timeout
    while code in _CONNECTING:
        if watch.stopped():
            raise _Stopped("stopped while connecting")
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        _, ready, failed = select.select([], [sock], [sock], min(left, _WATCH_INTERVAL_S))
        if ready or failed:
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if code:
        raise OSError(code, os.strerror(code))


class _Opened(NamedTuple):
    connection: http.client.HTTPConnection
    response: http.client.HTTPResponse


@dataclass
class _Piece:
    """What one event of the answer carries."""

    text: str = ""
    logprobs: list[float] = field(default_factory=list)
    """The finite ones."""
    tokens: int = 0
    finish_reason: str | None = None
    prompt_tokens: int | None = None


@dataclass
class _Answer:
    """The answer so far."""

    text: str = ""
    logprobs: list[float] = field(default_factory=list)
    tokens: int = 0
    prompt_tokens: int = 0
    first_token_at: float | None = None

    def add(self, piece: _Piece) -> None:
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        self.text += piece.text
        self.logprobs.extend(piece.logprobs)
        self.tokens += piece.tokens
        if piece.prompt_tokens is not None:
            self.prompt_tokens = piece.prompt_tokens


class OpenAICompatibleBackend:
    name = "openai"

    def __init__(self, base_url: str, remote: RemoteOptions) -> None:
        self._endpoint = _Endpoint.parse(base_url)
        self.model_path = str(self._endpoint)  # never the credentials of user:password@host
        self.remote = remote
        self._key = _api_key(remote.api_key_env)
        self._model_name = remote.api_model or None

    # --- HTTP plumbing ---

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        return headers

    def _redacted(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def _connect(self, watch: _Watch) -> http.client.HTTPConnection:
        """Nothing is sent yet, so a failure here is worth another try."""
        connection = self._endpoint.connection(self.remote.connect_timeout_s)
        # http.client's own hook for opening the socket (its tests use it too): the TLS
        # handshake and the TCP_NODELAY set-up stay http.client's.
        connection._create_connection = functools.partial(  # type: ignore[attr-defined]
            _open_socket, watch
        )
        try:
            connection.connect()
        except ssl.SSLError as error:
            watch.detach()
            connection.close()
            raise BackendError(f"TLS with {self._endpoint} failed: {error}") from None
        except OSError as error:
            watch.detach()
            connection.close()
            raise _Retryable(f"cannot reach {self._endpoint}: {error}") from None
        watch.attach(connection.sock)
        return connection

    def _send(
        self, connection: http.client.HTTPConnection, method: str, path: str, body: Any
    ) -> http.client.HTTPResponse:
        """Send the request and read the status line and headers. The server may be working
        on it already, so a failure here is not retried."""
        assert connection.sock is not None
        connection.sock.settimeout(self.remote.read_timeout_s)
        payload = None if body is None else json.dumps(body).encode()
        try:
            connection.request(
                method, self._endpoint.base_path + path, body=payload, headers=self._headers()
            )
            return connection.getresponse()
        except TimeoutError:
            raise BackendError(self._timed_out(path)) from None
        except (OSError, http.client.HTTPException) as error:
            message = f"{self._endpoint}{path} broke off the connection: {error}"
            raise BackendError(message) from None

    def _timed_out(self, path: str) -> str:
        waited = self.remote.read_timeout_s
        return f"{self._endpoint}{path} timed out: nothing came for {waited:g} s"

    def _open(self, method: str, path: str, body: Any, watch: _Watch) -> _Opened:
        """One attempt: connect, send, read the status line and headers."""
        connection = self._connect(watch)
        try:
            response = self._send(connection, method, path, body)
        except BaseException:
            watch.detach()
            connection.close()
            raise
        opened = _Opened(connection, response)
        if response.status == 200:
            return opened
        detail = self._error_detail(response)
        self._close(opened, watch)
        message = f"{self._endpoint}{path} answered {response.status}: {detail}"
        if response.status in _RETRY_STATUS:
            raise _Retryable(message, _retry_after_s(response))
        raise BackendError(message)

    def _error_detail(self, response: http.client.HTTPResponse) -> str:
        try:
            detail = response.read(2000).decode("utf-8", "replace").strip()
        except (OSError, http.client.HTTPException):
            return ""
        return self._redacted(detail)

    @staticmethod
    def _close(opened: _Opened, watch: _Watch) -> None:
        """Also stops the server's generation when we end early. The response too: after
        ``Connection: close`` it alone holds the socket."""
        watch.detach()
        opened.response.close()
        opened.connection.close()

    def _open_with_retries(
        self, method: str, path: str, body: Any, watch: _Watch
    ) -> _Opened | None:
        """None when cancelled or out of time before the answer began."""
        attempts = self.remote.max_retries + 1
        for attempt in range(attempts):
            if watch.stopped():
                return None
            try:
                return self._open(method, path, body, watch)
            except (_Retryable, BackendError) as error:
                if watch.stopped():
                    return None
                if not isinstance(error, _Retryable):
                    raise
                if attempt == attempts - 1:
                    tries = f"{attempts} attempts" if attempts > 1 else "1 attempt"
                    raise BackendError(f"{error} (after {tries})") from None
                wait = max(min(0.25 * 2**attempt, 2.0), error.retry_after_s or 0.0)
            if watch.wait(min(wait, _MAX_RETRY_WAIT_S)):
                return None
        raise AssertionError("unreachable")

    def _resolve_model_name(self, watch: _Watch) -> str | None:
        if self._model_name is None:
            opened = self._open_with_retries("GET", "/v1/models", None, watch)
            if opened is None:
                return None
            try:
                listing = json.loads(_read_body(opened.response))
                self._model_name = str(listing["data"][0]["id"])
            except (
                ValueError,
                KeyError,
                IndexError,
                TypeError,
                RecursionError,
                OSError,
                http.client.HTTPException,
                _Malformed,
            ) as error:
                if watch.stopped():
                    return None
                raise BackendError(
                    f"{self._endpoint}/v1/models lists no model ({error}); set apiModel"
                ) from None
            finally:
                self._close(opened, watch)
        return self._model_name

    # --- the Backend protocol ---

    def _request_body(self, model: str, prompt: str, options: GenerationOptions) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": model,
            "prompt": prompt,
            "max_tokens": options.max_new_tokens,
            "temperature": options.temperature,
            "stream": True,
            "logprobs": 1,
        }
        if options.stop_texts:
            body["stop"] = list(options.stop_texts)
        if options.temperature > 0:
            body["top_p"] = options.top_p
            if options.top_k > 0:
                body["top_k"] = options.top_k  # vLLM, TGI, llama.cpp and Ollama accept it
        if options.repetition_penalty != 1.0:
            body["repetition_penalty"] = options.repetition_penalty  # vLLM, TGI
            body["repeat_penalty"] = options.repetition_penalty  # llama.cpp server
        if options.seed is not None:
            body["seed"] = options.seed
        if options.stop_token_ids:
            body["stop_token_ids"] = list(options.stop_token_ids)  # vLLM
        return body

    def generate(
        self,
        prompt: str,
        options: GenerationOptions,
        cancel: CancelToken,
        stop_check: StopCheck | None = None,
    ) -> Generation:
        started = time.perf_counter()
        budget = options.time_budget_s
        deadline = None if budget is None else time.monotonic() + budget
        with _Watch(cancel, deadline) as watch:
            model = self._resolve_model_name(watch)
            opened = None
            if model is not None:
                body = self._request_body(model, prompt, options)
                opened = self._open_with_retries("POST", "/v1/completions", body, watch)
            if opened is None:
                return Generation("", watch.reason(), 0, 0, 0, time.perf_counter() - started, 0.0)
            answer = _Answer()
            try:
                finish = self._read_answer(opened.response, options, stop_check, answer, watch)
            except _READ_ERRORS as error:
                if not watch.fired.is_set():
                    raise self._answer_error(error) from None
                finish = watch.reason()
            finally:
                self._close(opened, watch)
        prefilled = answer.first_token_at or time.perf_counter()
        return Generation(
            text=cut_at_stop_text(answer.text, options.stop_texts),
            finish_reason=finish,
            prompt_tokens=answer.prompt_tokens,
            reused_prompt_tokens=0,
            completion_tokens=answer.tokens,
            prefill_seconds=prefilled - started,
            decode_seconds=time.perf_counter() - prefilled,
            mean_logprob=sum(answer.logprobs) / len(answer.logprobs) if answer.logprobs else None,
        )

    def _read_answer(
        self,
        response: http.client.HTTPResponse,
        options: GenerationOptions,
        stop_check: StopCheck | None,
        answer: _Answer,
        watch: _Watch,
    ) -> FinishReason:
        """Read events into ``answer`` until one ends it; the finish reason."""
        for event in _events(response, self.remote.read_timeout_s):
            if watch.fired.is_set():
                return watch.reason()
            piece = _parse_event(event)
            if answer.tokens + piece.tokens > options.max_new_tokens:
                return "length"  # the server ignores max_tokens: stop it here
            answer.add(piece)
            if any(marker in answer.text for marker in options.stop_texts):
                return "stop_token"
            if stop_check is not None and piece.text and stop_check(answer.text):
                return "stop_check"
            if piece.finish_reason:
                return "stop_token" if piece.finish_reason == "stop" else "length"
        return "length"

    def _answer_error(self, error: Exception) -> BackendError:
        if isinstance(error, BackendError):
            return error
        if isinstance(error, TimeoutError):
            return BackendError(self._timed_out("/v1/completions"))
        if isinstance(error, _Malformed):
            return BackendError(f"{self._endpoint} sent a malformed answer: {error}")
        if isinstance(error, _Truncated):
            return BackendError(f"{self._endpoint} broke off the answer (no [DONE] at its end)")
        return BackendError(f"{self._endpoint} broke off the answer: {error}")

    def close(self) -> None:
        pass


def _retry_after_s(response: http.client.HTTPResponse) -> float | None:
    """The wait a 429/503 answer asks for (seconds or an HTTP date), if any."""
    value = (response.getheader("Retry-After") or "").strip()
    if not value:
        return None
    with contextlib.suppress(ValueError, TypeError, OverflowError):
        seconds = float(value) if value.isdigit() else _seconds_until(value)
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    return None


def _seconds_until(http_date: str) -> float:
    return email.utils.parsedate_to_datetime(http_date).timestamp() - time.time()


def _read_body(response: http.client.HTTPResponse) -> bytes:
    body = response.read(_MAX_BODY_BYTES + 1)
    if len(body) > _MAX_BODY_BYTES:
        raise _Malformed(f"an answer over {_MAX_BODY_BYTES >> 20} MiB")
    return body


def _json(data: bytes) -> object:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:
        raise _Malformed(f"invalid JSON ({error}): {_short(data)}") from None


def _events(response: http.client.HTTPResponse, timeout_s: float) -> Iterator[object]:
    """The JSON payloads of a server-sent-event stream until ``[DONE]``, or the one JSON
    object of a server that does not stream. Comments (keep-alive pings) do not count as
    the next bytes of the answer: ``timeout_s`` without an event is a timeout."""
    content_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
    if content_type == "application/json":
        yield _json(_read_body(response))
        return
    last_event = time.monotonic()
    while line := response.readline(_MAX_LINE_BYTES + 1):
        if len(line) > _MAX_LINE_BYTES:
            raise _Malformed(f"a line over {_MAX_LINE_BYTES >> 20} MiB")
        line = line.strip()
        if not line.startswith(b"data:"):
            if time.monotonic() - last_event > timeout_s:
                raise TimeoutError
            continue
        last_event = time.monotonic()
        data = line[len(b"data:") :].strip()
        if data == b"[DONE]":
            return
        yield _json(data)
    raise _Truncated


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def _parse_event(event: object) -> _Piece:
    """One event (or a whole non-streamed answer), its shape checked."""
    if not isinstance(event, dict):
        raise _Malformed(f"an event is not a JSON object: {_short(event)}")
    if event.get("error") is not None:
        raise BackendError(f"server error: {_error_text(event['error'])}")
    choices = _typed(event, "choices", list, [])
    choice = choices[0] if choices else {}
    if not isinstance(choice, dict):
        raise _Malformed(f"a choice is not a JSON object: {_short(choice)}")
    text = _typed(choice, "text", str, "")
    values = _typed(_typed(choice, "logprobs", dict, {}), "token_logprobs", list, [])
    logprobs = [_logprob(value) for value in values]
    usage = _typed(event, "usage", dict, {})
    prompt_tokens = _typed(usage, "prompt_tokens", int, None)
    return _Piece(
        text=text,
        logprobs=[value for value in logprobs if value is not None],
        tokens=max(len(values), 1 if text else 0),
        finish_reason=_typed(choice, "finish_reason", str, None),
        prompt_tokens=None if prompt_tokens is None else max(0, prompt_tokens),
    )


def _typed(mapping: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    """``mapping[key]``, checked to be a ``kind``; ``default`` when absent or null."""
    value = mapping.get(key)
    if value is None:
        return default
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _Malformed(f"{key} is not {_JSON_KINDS[kind]}: {_short(value)}")
    return value


def _logprob(value: object) -> float | None:
    """A token's log-probability; None when absent or not finite (NaN is no JSON)."""
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _Malformed(f"a token_logprobs value is not a number: {_short(value)}")
    return float(value) if math.isfinite(value) else None


def _error_text(error: object) -> str:
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"][:500]
    return _short(error)
