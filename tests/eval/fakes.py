"""Deterministic stand-ins for the model in the harness's tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from copilot_lsp.backends.base import (
    BackendError,
    CancelToken,
    Generation,
    GenerationOptions,
    StopCheck,
)
from copilot_lsp.eval.datasets import Task


@dataclass
class LoggedGeneration(Generation):
    """A Generation that also carries the mean log-probability the ranking needs."""

    mean_logprob: float | None = None


@dataclass
class ReferenceBackend:
    """Answers each FIM prompt with the reference middle of the task it was built from.

    The task is recognised by the tail of its prefix and the head of its suffix inside the
    prompt. ``answer`` may rewrite the reference (for wrong or varying answers); ``fail_on``
    names tasks whose generation raises ``BackendError``.
    """

    tasks: list[Task]
    answer: Callable[[Task, int], str] | None = None
    logprob: Callable[[Task, int], float] | None = None
    fail_on: frozenset[str] = frozenset()
    name: str = "reference"
    model_path: str = "reference.gguf"
    calls: list[str] = field(default_factory=list)

    def _task_for(self, prompt: str) -> Task:
        matches = [
            task
            for task in self.tasks
            if task.prefix.rstrip(" \t")[-300:] in prompt and task.suffix[:300] in prompt
        ]
        if not matches:
            raise AssertionError("prompt of no known task")
        return max(matches, key=lambda task: (len(task.suffix[:300]), len(task.prefix)))

    def generate(
        self,
        prompt: str,
        options: GenerationOptions,
        cancel: CancelToken,
        stop_check: StopCheck | None = None,
    ) -> Generation:
        task = self._task_for(prompt)
        attempt = sum(1 for task_id in self.calls if task_id == task.task_id)
        self.calls.append(task.task_id)
        if task.task_id in self.fail_on:
            raise BackendError("scripted failure")
        text = self.answer(task, attempt) if self.answer else task.reference
        mean = self.logprob(task, attempt) if self.logprob else None
        return LoggedGeneration(
            text=text,
            finish_reason="stop_token",
            prompt_tokens=len(prompt) // 4,
            reused_prompt_tokens=0,
            completion_tokens=max(1, len(text) // 4),
            prefill_seconds=0.0,
            decode_seconds=0.0,
            mean_logprob=mean,
        )

    def close(self) -> None:
        pass
