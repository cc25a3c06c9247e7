"""A small deterministic backend for unit tests of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field

from copilot_lsp.backends.base import CancelToken, Generation, GenerationOptions, StopCheck


@dataclass
class ScriptedBackend:
    """Answers every prompt with ``answer`` and records what it was asked."""

    answer: str
    name: str = "scripted"
    model_path: str = "scripted.gguf"
    prompts: list[str] = field(default_factory=list)

    def generate(
        self,
        prompt: str,
        options: GenerationOptions,
        cancel: CancelToken,
        stop_check: StopCheck | None = None,
    ) -> Generation:
        self.prompts.append(prompt)
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
