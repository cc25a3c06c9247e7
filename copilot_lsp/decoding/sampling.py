"""Choosing the next token: greedy or sampled through the warper chain, with its log-prob."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from copilot_lsp.backends.base import GenerationOptions
from copilot_lsp.decoding.warpers import (
    LogitsWarper,
    RepetitionPenalty,
    Temperature,
    TopK,
    TopP,
    softmax,
)


def build_warpers(options: GenerationOptions) -> list[LogitsWarper]:
    """The chain for ``options``, in the usual order: penalty, temperature, top-k, top-p.

    Greedy decoding (temperature 0) keeps only the penalty; the argmax does the rest.
    Raises ValueError for an invalid option.
    """
    warpers: list[LogitsWarper] = []
    if options.repetition_penalty != 1.0:
        warpers.append(RepetitionPenalty(options.repetition_penalty))
    if options.temperature < 0 or not math.isfinite(options.temperature):
        raise ValueError(f"temperature must be >= 0, got {options.temperature}")
    if options.temperature == 0:
        return warpers
    warpers.append(Temperature(options.temperature))
    if options.top_k < 0:
        raise ValueError(f"top-k must be >= 0 (0 = off), got {options.top_k}")
    if options.top_k > 0:
        warpers.append(TopK(options.top_k))
    warpers.append(TopP(options.top_p))
    return warpers


@dataclass
class Sampler:
    """Draws one token from next-token logits; also reports its log-probability under the
    model's own (unwarped) distribution, which is what candidate ranking averages."""

    options: GenerationOptions
    warpers: list[LogitsWarper] = field(init=False)
    rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self.warpers = build_warpers(self.options)
        self.rng = np.random.default_rng(self.options.seed)

    @property
    def greedy(self) -> bool:
        return self.options.temperature == 0

    def __call__(self, logits: np.ndarray, history: Sequence[int]) -> tuple[int, float]:
        raw = np.asarray(logits, dtype=np.float32)
        warped = raw
        for warp in self.warpers:
            warped = warp(warped, history)
        if self.greedy:
            token = int(np.argmax(warped))
        else:
            token = int(self.rng.choice(warped.shape[-1], p=softmax(warped.astype(np.float64))))
        top = float(np.max(raw))
        logprob = float(raw[token]) - top - math.log(float(np.sum(np.exp(raw - top))))
        return token, logprob
