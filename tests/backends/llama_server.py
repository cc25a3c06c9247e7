"""A real OpenAI-compatible server for the tests: llama-cpp-python's `llama_cpp.server`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

API_KEY = "test-secret-key"
KEY_ENV = "COPILOT_LSP_TEST_API_KEY"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LlamaServer:
    """Started and stopped by the tests (it is our own child process, ended by its pid)."""

    def __init__(self, model: Path, log: Path) -> None:
        self.model = model
        self.log = log
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 240) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        command = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            "2048",
            "--api_key",
            API_KEY,
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited: {self.log.read_text()[-2000:]}")
            if self.models() is not None:
                return
            time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"llama_cpp.server not up after {timeout} s")

    def models(self) -> list[str] | None:
        request = urllib.request.Request(
            f"{self.url}/v1/models", headers={"Authorization": f"Bearer {API_KEY}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as answer:
                return [entry["id"] for entry in json.load(answer)["data"]]
        except (OSError, urllib.error.URLError, ValueError):
            return None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
