"""A small deterministic backend for unit tests of the pipeline."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from copilot_lsp.backends.base import CancelToken, Generation, GenerationOptions, StopCheck

T = TypeVar("T")


@dataclass
class ScriptedBackend:
    """Answers every prompt with ``answer`` and records what it was asked."""

    answer: str
    name: str = "scripted"
    model_path: str = "scripted.gguf"
    prompts: list[str] = field(default_factory=list)
    options: list[GenerationOptions] = field(default_factory=list)
    heals_tokens: bool = False

    def generate(
        self,
        prompt: str,
        options: GenerationOptions,
        cancel: CancelToken,
        stop_check: StopCheck | None = None,
    ) -> Generation:
        self.prompts.append(prompt)
        self.options.append(options)
        text = ""
        finish = "length"
        for char in self.answer[: options.max_new_tokens]:
            text += char
            if stop_check is not None and stop_check(text):
                finish = "stop_check"
                break
        return Generation(text, finish, len(prompt), 0, len(text), 0.0, 0.0)

    def close(self) -> None:
        pass


@dataclass
class BlockingBackend:
    """Generates nothing until released or cancelled: a generation that is still running."""

    answer: str
    name: str = "blocking"
    model_path: str = "blocking.gguf"
    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    cancelled: list[str] = field(default_factory=list)
    saw_cancel: threading.Event = field(default_factory=threading.Event)
    written: str = ""
    """Text reported to the stop check before blocking (the start of the answer)."""

    def generate(
        self,
        prompt: str,
        options: GenerationOptions,
        cancel: CancelToken,
        stop_check: StopCheck | None = None,
    ) -> Generation:
        if self.written and stop_check is not None:
            stop_check(self.written)
        self.started.set()
        while not self.release.wait(0.01):
            if cancel.cancelled:
                self.cancelled.append(prompt)
                self.saw_cancel.set()
                return Generation("", "cancelled", len(prompt), 0, 0, 0.0, 0.0)
        return Generation(self.answer, "stop_token", len(prompt), 0, len(self.answer), 0.0, 0.0)

    def close(self) -> None:
        pass


class ThreadRunner:
    """The model host's contract without a model: work runs on one worker thread and a
    cancelled caller sets the work's cancel token."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.state = "ready"
        self.calls = 0
        self._executor = ThreadPoolExecutor(max_workers=1)

    async def run(self, work: Callable[[Any, CancelToken], T]) -> T:
        self.calls += 1
        cancel = CancelToken()
        future = asyncio.get_running_loop().run_in_executor(
            self._executor, work, self.backend, cancel
        )
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            cancel.cancel()
            raise

    def close(self) -> None:
        self._executor.shutdown(wait=True)
