"""When generation ends: cancellation, end tokens, stop texts, a caller's criterion, the
token budget and the wall-clock budget, checked after every token."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from copilot_lsp.backends.base import CancelToken, FinishReason, GenerationOptions, StopCheck


def cut_at_stop_text(text: str, stop_texts: Iterable[str]) -> str:
    """``text`` up to the earliest occurrence of any stop text."""
    end = len(text)
    for marker in stop_texts:
        if marker and (found := text.find(marker)) != -1:
            end = min(end, found)
    return text[:end]


@dataclass
class StopCriteria:
    options: GenerationOptions
    cancel: CancelToken
    stop_ids: frozenset[int]
    """End-of-text ids plus the options' stop token ids."""
    budget: int
    """The most tokens this request may produce (after the context limit)."""
    stop_check: StopCheck | None = None
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.budget < 1:
            raise ValueError(f"token budget must be positive, got {self.budget}")
        budget_s = self.options.time_budget_s
        if budget_s is not None and budget_s <= 0:
            raise ValueError(f"time budget must be positive, got {budget_s}")

    def before_token(self) -> FinishReason | None:
        """Checked before spending compute on the next token."""
        if self.cancel.cancelled:
            return "cancelled"
        budget_s = self.options.time_budget_s
        if budget_s is not None and time.monotonic() - self.started >= budget_s:
            return "time_budget"
        return None

    def is_stop_token(self, token: int) -> bool:
        return token in self.stop_ids

    def after_token(self, text: str, produced: int) -> FinishReason | None:
        """Checked once the token's text is appended (``text`` is all text so far)."""
        if any(marker in text for marker in self.options.stop_texts):
            return "stop_token"
        if self.stop_check is not None and self.stop_check(text):
            return "stop_check"
        if produced >= self.budget:
            return "length"
        return None
