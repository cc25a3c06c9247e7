"""A byte-level LSP client for the real `copilot-lsp serve` process.

pytest-lsp only sends well-formed messages; fuzzing needs to write any bytes and still
read the answers, so this client frames (or mis-frames) messages itself and reads the
server's stdout on a thread.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

PROGRAM = [sys.executable, "-m", "copilot_lsp"]


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def message(payload: dict[str, Any]) -> bytes:
    return frame(json.dumps(payload).encode("utf-8"))


class RawServer:
    """One server process; ``request`` returns the id, ``answer`` waits for its response."""

    def __init__(
        self,
        *args: str,
        stderr_path: Path | None = None,
        log_level: str = "WARNING",
        env: dict[str, str] | None = None,
    ) -> None:
        self._stderr = open(stderr_path or os.devnull, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [*PROGRAM, "--log-level", log_level, "serve", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        self._ids = itertools.count(1)
        self._answers: dict[Any, dict[str, Any]] = {}
        self._other: queue.Queue[dict[str, Any]] = queue.Queue()
        self._arrived = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # -- reading -------------------------------------------------------------------------
    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while (line := stream.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line or length is None:
                break
            payload = json.loads(stream.read(length))
            if "id" in payload and "method" not in payload:
                with self._arrived:
                    self._answers[payload["id"]] = payload
                    self._arrived.notify_all()
            elif payload.get("method") in ("window/workDoneProgress/create",):
                self.send(message({"jsonrpc": "2.0", "id": payload["id"], "result": None}))
            else:
                self._other.put(payload)
        with self._arrived:
            self._arrived.notify_all()

    def answer(self, request_id: Any, timeout: float = 60) -> dict[str, Any]:
        """The response to ``request_id``; TimeoutError when the server never answers."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while request_id not in self._answers:
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    raise TimeoutError(f"no answer to request {request_id!r}")
                self._arrived.wait(min(left, 0.5))
            return self._answers.pop(request_id)

    def notifications(self) -> list[dict[str, Any]]:
        found = []
        while not self._other.empty():
            found.append(self._other.get_nowait())
        return found

    # -- writing -------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def request(self, method: str, params: Any = None, request_id: Any = None) -> Any:
        request_id = next(self._ids) if request_id is None else request_id
        payload = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            payload["params"] = params
        self.send(message(payload))
        return request_id

    def call(self, method: str, params: Any = None, timeout: float = 60) -> dict[str, Any]:
        return self.answer(self.request(method, params), timeout)

    def notify(self, method: str, params: Any = None) -> None:
        payload = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            payload["params"] = params
        self.send(message(payload))

    # -- session helpers -----------------------------------------------------------------
    def initialize(
        self,
        options: dict[str, Any] | None = None,
        load_model: bool = False,
        capabilities: dict[str, Any] | None = None,
    ) -> None:
        """Initialize (as a UTF-16 client unless ``capabilities`` says otherwise); the model
        loads only after `initialized`, so fuzzing the protocol without ``load_model`` never
        waits for it."""
        answer = self.call(
            "initialize",
            {
                "processId": None,
                "rootUri": None,
                "capabilities": (
                    {"general": {"positionEncodings": ["utf-16"]}}
                    if capabilities is None
                    else capabilities
                ),
                "initializationOptions": options or {},
            },
        )
        assert "result" in answer, answer
        if load_model:
            self.notify("initialized", {})

    def status(self, timeout: float = 60) -> dict[str, Any]:
        return self.call("copilot/status", {}, timeout)["result"]

    def wait_ready(self, timeout: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (current := self.status())["state"] not in ("ready", "failed"):
            if time.monotonic() > deadline:
                raise TimeoutError(current)
            time.sleep(0.1)
        return current

    def open(self, uri: str, text: str, version: int = 1, language: str = "python") -> None:
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": language,
                    "version": version,
                    "text": text,
                }
            },
        )

    def text_of(self, uri: str) -> str:
        answer = self.call("copilot/documentText", {"uri": uri})
        assert "result" in answer, answer
        return answer["result"]["text"]

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/task"))

    def close(self, timeout: float = 30) -> int:
        """Shut down politely if still alive; returns the exit code."""
        if self.alive():
            try:
                self.answer(self.request("shutdown"), timeout)
                self.notify("exit")
                self.process.stdin.close()  # type: ignore[union-attr]
            except (TimeoutError, BrokenPipeError, OSError):
                pass
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._stderr.close()
        return code
