"""A backend that answers every prompt with the task's reference middle.

``copilot-lsp eval --oracle`` runs it through the same pipeline: the pass rate it gets is
the ceiling that prompt building and post-processing leave to any model (a perfect raw
answer can still be cut short, e.g. to one line when code follows the cursor).
"""

from __future__ import annotations

from dataclasses import dataclass

from copilot_lsp.backends.base import CancelToken, Generation, GenerationOptions, StopCheck
from copilot_lsp.eval.task import Task
from copilot_lsp.prompt.fim import QWEN25_CODER

_PROBE = 300
"""Characters of the prefix's end and the suffix's start that identify a task's prompt."""


@dataclass
class OracleBackend:
    tasks: list[Task]
    name: str = "oracle"
    model_path: str = "oracle"

    def task_for(self, prompt: str) -> Task:
        """The task whose prefix ends the prompt's prefix part and whose suffix starts its
        suffix part (whatever the pipeline adds before the prefix does not matter)."""
        head, _, rest = prompt.rpartition(QWEN25_CODER.suffix)
        middle = rest.partition(QWEN25_CODER.middle)[0]
        head = head.rstrip(" \t")
        matches = [
            task
            for task in self.tasks
            if head.endswith(task.prefix.rstrip(" \t")[-_PROBE:])
            and middle.startswith(task.suffix[:_PROBE])
        ]
        if not matches:
            raise LookupError("the prompt belongs to none of the tasks")
        return max(matches, key=lambda task: (len(task.suffix[:_PROBE]), len(task.prefix)))

    def answer(self, task: Task) -> str:
        return task.reference

    def generate(
        self,
        prompt: str,
        options: GenerationOptions,
        cancel: CancelToken,
        stop_check: StopCheck | None = None,
    ) -> Generation:
        text = self.answer(self.task_for(prompt))
        return Generation(text, "stop_token", len(prompt) // 4, 0, len(text) // 4, 0.0, 0.0)

    def close(self) -> None:
        pass
