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
from copilot_lsp.eval.oracle import OracleBackend
from copilot_lsp.eval.task import Task


@dataclass
class LoggedGeneration(Generation):
    """A Generation that also carries the mean log-probability the ranking needs."""

    mean_logprob: float | None = None


@dataclass
class ReferenceBackend(OracleBackend):
    """The oracle with hooks: ``answer_with`` may rewrite the reference per attempt (wrong
    or varying answers), ``logprob`` adds a mean log-probability, ``fail_on`` names tasks
    whose generation raises ``BackendError``; ``calls`` lists the task ids asked for."""

    answer_with: Callable[[Task, int], str] | None = None
    logprob: Callable[[Task, int], float] | None = None
    fail_on: frozenset[str] = frozenset()
    calls: list[str] = field(default_factory=list)

    def generate(
        self,
        prompt: str,
        options: GenerationOptions,
        cancel: CancelToken,
        stop_check: StopCheck | None = None,
    ) -> Generation:
        task = self.task_for(prompt)
        attempt = self.calls.count(task.task_id)
        self.calls.append(task.task_id)
        if task.task_id in self.fail_on:
            raise BackendError("scripted failure")
        text = self.answer_with(task, attempt) if self.answer_with else task.reference
        return LoggedGeneration(
            text=text,
            finish_reason="stop_token",
            prompt_tokens=len(prompt) // 4,
            reused_prompt_tokens=0,
            completion_tokens=max(1, len(text) // 4),
            prefill_seconds=0.0,
            decode_seconds=0.0,
            mean_logprob=self.logprob(task, attempt) if self.logprob else None,
        )
