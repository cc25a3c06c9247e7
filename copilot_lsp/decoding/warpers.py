"""Logits warpers: small validated callables chained in order before a token is drawn.

Each takes the next-token logits (a 1-D float array over the vocabulary) and the token ids
seen so far, and returns new logits; tokens that must not be drawn get ``-inf``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

LogitsWarper = Callable[[np.ndarray, Sequence[int]], np.ndarray]


def _finite(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class RepetitionPenalty:
    """CTRL-style: logits of tokens already seen are divided (if positive) or multiplied
    (if negative) by ``penalty``, so a penalty above 1 always makes them less likely."""

    penalty: float

    def __post_init__(self) -> None:
        _finite("repetition penalty", self.penalty)
        if self.penalty <= 0:
            raise ValueError(f"repetition penalty must be positive, got {self.penalty}")

    def __call__(self, logits: np.ndarray, history: Sequence[int]) -> np.ndarray:
        if self.penalty == 1.0 or not len(history):
            return logits
        seen = np.unique(np.asarray(history, dtype=np.int64))
        seen = seen[(seen >= 0) & (seen < logits.shape[-1])]
        out = logits.copy()
        values = out[seen]
        out[seen] = np.where(values > 0, values / self.penalty, values * self.penalty)
        return out


@dataclass(frozen=True)
class Temperature:
    """Divides the logits by ``value``: below 1 sharpens, above 1 flattens."""

    value: float

    def __post_init__(self) -> None:
        _finite("temperature", self.value)
        if self.value <= 0:
            raise ValueError(f"temperature must be positive (use greedy for 0), got {self.value}")

    def __call__(self, logits: np.ndarray, history: Sequence[int]) -> np.ndarray:
        return logits / self.value


@dataclass(frozen=True)
class TopK:
    """Keeps the ``k`` highest logits (ties with the k-th are kept too)."""

    k: int

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise ValueError(f"top-k must be a positive integer, got {self.k!r}")

    def __call__(self, logits: np.ndarray, history: Sequence[int]) -> np.ndarray:
        if self.k >= logits.shape[-1]:
            return logits
        threshold = np.partition(logits, -self.k)[-self.k]
        return np.where(logits < threshold, -np.inf, logits)


@dataclass(frozen=True)
class TopP:
    """Nucleus: keeps the most likely tokens until their probability mass reaches ``p``
    (the most likely token is always kept)."""

    p: float

    def __post_init__(self) -> None:
        _finite("top-p", self.p)
        if not 0 < self.p <= 1:
            raise ValueError(f"top-p must be in (0, 1], got {self.p}")

    def __call__(self, logits: np.ndarray, history: Sequence[int]) -> np.ndarray:
        if self.p >= 1.0:
            return logits
        # Sort only the candidates still alive (after top-k there are few).
        alive = np.flatnonzero(np.isfinite(logits))
        order = alive[np.argsort(-logits[alive], kind="stable")]
        probs = softmax(logits[order])
        mass_before = np.cumsum(probs) - probs
        keep = order[mass_before < self.p]
        out = np.full_like(logits, -np.inf)
        out[keep] = logits[keep]
        return out


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - np.max(logits))
    return shifted / shifted.sum()


def log_softmax(logits: np.ndarray) -> np.ndarray:
    top = np.max(logits)
    return logits - top - np.log(np.sum(np.exp(logits - top)))
