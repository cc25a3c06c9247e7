"""Any OpenAI-compatible ``/v1/completions`` server (vLLM, TGI, llama.cpp server, Ollama).

Standard library only. Answers are streamed (server-sent events), so closing the connection
on a cancel or a finished line stops the generation on the server too. Connection failures
and 429/5xx answers are retried a bounded number of times before any token arrived; then
the failure becomes a BackendError, and the next request tries again (the server may be back).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
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
    """A failure worth another try (connection refused, 429, 5xx)."""


@dataclass(frozen=True)
class _Endpoint:
    scheme: str
    host: str
    port: int
    base_path: str

    @classmethod
    def parse(cls, url: str) -> _Endpoint:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BackendError(f"server URL must look like http://host:port, got {url!r}")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as error:
            raise BackendError(f"bad port in server URL {url!r}: {error}") from None
        path = parts.path.rstrip("/")
        if path.endswith("/v1"):  # both http://host:8000 and http://host:8000/v1 are accepted
            path = path[: -len("/v1")]
        return cls(parts.scheme, parts.hostname, port, path)

    def connect(self, timeout: float) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return kind(self.host, self.port, timeout=timeout)

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{self.base_path}"


class OpenAICompatibleBackend:
    name = "openai"

    def __init__(self, base_url: str, remote: RemoteOptions) -> None:
        self.model_path = base_url
        self.remote = remote
        self._endpoint = _Endpoint.parse(base_url)
        self._model_name = remote.api_model or None

    # --- HTTP plumbing ---

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        key = os.environ.get(self.remote.api_key_env, "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _open(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """One attempt: connect, send, read the status line and headers."""
        connection = self._endpoint.connect(self.remote.connect_timeout_s)
        try:
            payload = None if body is None else json.dumps(body).encode()
            connection.request(
                method, self._endpoint.base_path + path, body=payload, headers=self._headers()
            )
            if connection.sock is not None:
                connection.sock.settimeout(self.remote.read_timeout_s)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise _Retryable(f"cannot reach {self._endpoint}: {error}") from error
        if response.status != 200:
            detail = response.read(2000).decode("utf-8", "replace").strip()
            connection.close()
            message = f"{self._endpoint}{path} answered {response.status}: {detail}"
            if response.status in _RETRY_STATUS:
                raise _Retryable(message)
            raise BackendError(message)
        return connection, response

    def _open_with_retries(
        self, method: str, path: str, body: dict[str, Any] | None, cancel: CancelToken
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse] | None:
        """None when cancelled while waiting to retry."""
        attempts = self.remote.max_retries + 1
        for attempt in range(attempts):
            try:
                return self._open(method, path, body)
            except _Retryable as error:
                if attempt == attempts - 1:
                    tries = f"{attempts} attempts" if attempts > 1 else "1 attempt"
                    raise BackendError(f"{error} (after {tries})") from None
                if cancel.wait(min(0.25 * 2**attempt, 2.0)):
                    return None
        raise AssertionError("unreachable")

    def _resolve_model_name(self, cancel: CancelToken) -> str | None:
        if self._model_name is None:
            opened = self._open_with_retries("GET", "/v1/models", None, cancel)
            if opened is None:
                return None
            connection, response = opened
            try:
                listing = json.loads(response.read())
                self._model_name = str(listing["data"][0]["id"])
            except (ValueError, KeyError, IndexError, TypeError, OSError) as error:
                raise BackendError(
                    f"{self._endpoint}/v1/models lists no model ({error}); set apiModel"
                ) from None
            finally:
                connection.close()
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
        model = self._resolve_model_name(cancel)
        opened = None
        if model is not None:
            opened = self._open_with_retries(
                "POST", "/v1/completions", self._request_body(model, prompt, options), cancel
            )
        if opened is None:
            return Generation("", "cancelled", 0, 0, 0, time.perf_counter() - started, 0.0)
        connection, response = opened
        first_token_at: float | None = None
        text = ""
        logprobs: list[float] = []
        pieces = 0
        prompt_tokens = 0
        finish: FinishReason = "length"
        deadline = (
            None if options.time_budget_s is None else time.monotonic() + options.time_budget_s
        )
        stopped_by_us = threading.Event()
        done = threading.Event()

        def watch() -> None:
            """Cut the connection when the editor cancels or the time budget runs out: the
            blocked read returns and the server sees the client leave."""
            while not done.is_set():
                expired = deadline is not None and time.monotonic() >= deadline
                if cancel.wait(_WATCH_INTERVAL_S) or expired:
                    stopped_by_us.set()
                    with contextlib.suppress(OSError):
                        if connection.sock is not None:
                            connection.sock.shutdown(socket.SHUT_RDWR)
                    return

        watcher = threading.Thread(target=watch, name="openai-cancel", daemon=True)
        watcher.start()
        try:
            for event in _events(response):
                choice = (event.get("choices") or [{}])[0]
                piece = choice.get("text") or ""
                if first_token_at is None:
                    first_token_at = time.perf_counter()
                if piece:
                    pieces += 1
                    text += piece
                token_logprobs = (choice.get("logprobs") or {}).get("token_logprobs") or []
                logprobs.extend(float(v) for v in token_logprobs if v is not None)
                usage = event.get("usage") or {}
                prompt_tokens = int(usage.get("prompt_tokens") or prompt_tokens)
                if any(marker in text for marker in options.stop_texts):
                    finish = "stop_token"
                    break
                if stop_check is not None and piece and stop_check(text):
                    finish = "stop_check"
                    break
                if choice.get("finish_reason"):
                    finish = "stop_token" if choice["finish_reason"] == "stop" else "length"
                    break
        except (OSError, http.client.HTTPException, ValueError) as error:
            if not stopped_by_us.is_set():
                raise BackendError(f"{self._endpoint} broke off the answer: {error}") from None
        finally:
            done.set()
            connection.close()  # also stops the server's generation when we end early
            watcher.join()
        if stopped_by_us.is_set() and finish == "length":
            finish = "cancelled" if cancel.cancelled else "time_budget"
        prefilled = first_token_at or time.perf_counter()
        return Generation(
            text=cut_at_stop_text(text, options.stop_texts),
            finish_reason=finish,
            prompt_tokens=prompt_tokens,
            reused_prompt_tokens=0,
            completion_tokens=max(pieces, len(logprobs)),
            prefill_seconds=prefilled - started,
            decode_seconds=time.perf_counter() - prefilled,
            mean_logprob=sum(logprobs) / len(logprobs) if logprobs else None,
        )

    def close(self) -> None:
        pass


def _events(response: http.client.HTTPResponse) -> Iterator[dict[str, Any]]:
    """The JSON payloads of a server-sent-event stream, until ``[DONE]`` or its end."""
    while line := response.readline():
        line = line.strip()
        if not line.startswith(b"data:"):
            continue
        data = line[len(b"data:") :].strip()
        if data == b"[DONE]":
            return
        event = json.loads(data)
        if "error" in event:
            raise BackendError(f"server error: {event['error']}")
        yield event
