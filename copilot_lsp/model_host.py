"""Owns the loaded model: loads it once in the background and runs generation on one
worker thread, so the event loop stays free to read cancellations."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from copilot_lsp.backends import Backend, BackendError, RemoteOptions, load_backend
from copilot_lsp.backends.base import CancelToken
from copilot_lsp.backends.openai_compat import without_userinfo
from copilot_lsp.config import Settings
from copilot_lsp.models import ModelError, concrete_model, resolve_model

log = logging.getLogger(__name__)
T = TypeVar("T")
State = Literal["idle", "loading", "ready", "failed"]


@dataclass(frozen=True)
class ModelSpec:
    """The settings that need a reload when they change."""

    model: str
    backend: str
    context_window: int
    threads: int
    remote: RemoteOptions | None = None
    """The server connection (backend "openai" only)."""

    @classmethod
    def of(cls, settings: Settings) -> ModelSpec:
        remote = None
        if settings.backend == "openai":
            remote = RemoteOptions(
                api_model=settings.api_model,
                api_key_env=settings.api_key_env,
                connect_timeout_s=settings.connect_timeout,
                read_timeout_s=settings.request_timeout,
                max_retries=settings.max_retries,
            )
            return cls(settings.server_url, settings.backend, settings.context_window, 0, remote)
        return cls(
            concrete_model(settings.model, settings.threads),
            settings.backend,
            settings.context_window,
            settings.threads,
        )


def model_location(spec: ModelSpec, report: Callable[[str], None]) -> str:
    """What the backend loads: the server URL (openai), a model directory (transformers) or
    the GGUF file of a preset or path."""
    if spec.backend == "openai":
        return spec.model
    if spec.backend == "transformers" and Path(spec.model).expanduser().is_dir():
        return str(Path(spec.model).expanduser())
    return str(resolve_model(spec.model, report))


def _shown(path: str, backend: str) -> str:
    """What the progress message names: the server URL without its credentials (openai),
    or the model's file or directory name."""
    if backend == "openai":
        return without_userinfo(path)
    return Path(path).name or path


class ModelHost:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self._lock = threading.Lock()
        self.backend: Backend | None = None
        self.spec: ModelSpec | None = None
        self.state: State = "idle"
        self.error: str | None = None
        self.load_seconds: float | None = None
        self.in_flight = 0
        """Generations submitted to the model thread and not finished yet."""
        self._active: dict[int, CancelToken] = {}
        self._closing = False

    def _load(self, spec: ModelSpec, report: Callable[[str], None]) -> None:
        started = time.perf_counter()
        try:
            path = model_location(spec, report)
            report(f"loading {_shown(path, spec.backend)} ({spec.backend})")
            backend = load_backend(
                spec.backend, path, spec.context_window, spec.threads, spec.remote
            )
        except (ModelError, BackendError, OSError) as error:
            with self._lock:
                self.state, self.error = "failed", str(error)
            log.error("model load failed: %s", error)
            raise
        with self._lock:
            old, self.backend = self.backend, backend
            self.state, self.error, self.spec = "ready", None, spec
            self.load_seconds = time.perf_counter() - started
        if old is not None:
            old.close()
        log.info("model ready in %.1f s: %s", self.load_seconds, backend.model_path)

    def needs_load(self, spec: ModelSpec) -> bool:
        return spec != self.spec or self.state in ("idle", "failed")

    async def load(self, spec: ModelSpec, report: Callable[[str], None]) -> None:
        """Load (or switch to) ``spec`` on the model thread; raises on failure."""
        with self._lock:
            self.state = "loading"
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._load, spec, report)

    async def run(self, work: Callable[[Backend, CancelToken], T]) -> T:
        """Run ``work`` on the model thread; cancelling the caller stops the generation."""
        if self._closing:
            raise BackendError("the model was shut down")
        cancel = CancelToken(finish_prompt=self._nothing_else_waits)

        def on_model_thread() -> T:
            try:
                # Read the backend here, not at submission: a reload may have replaced it.
                if self.backend is None:
                    raise BackendError("the model is not loaded")
                return work(self.backend, cancel)
            finally:
                with self._lock:
                    self.in_flight -= 1
                    self._active.pop(id(cancel), None)

        loop = asyncio.get_running_loop()
        with self._lock:
            self.in_flight += 1
            self._active[id(cancel)] = cancel
        future = loop.run_in_executor(self._executor, on_model_thread)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            cancel.cancel()
            raise

    def _nothing_else_waits(self) -> bool:
        return not self._closing and self.in_flight <= 1

    def close(self) -> None:
        """Stop every generation and free the model once the model thread is idle (freeing
        it under a running generation crashed the process at shutdown)."""
        with self._lock:
            self._closing = True
            for token in self._active.values():
                token.cancel()
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self.backend is not None:
            self.backend.close()
            self.backend = None
