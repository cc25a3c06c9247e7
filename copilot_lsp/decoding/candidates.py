"""Several candidates per request: their options, deduplication and ranking."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass

from copilot_lsp.backends.base import Generation, GenerationOptions

EXTRA_CANDIDATE_TEMPERATURE = 0.6
"""Extra candidates of a greedy request are sampled at this temperature (else they would
all equal the first)."""


@dataclass(frozen=True)
class Candidate:
    text: str
    mean_logprob: float | None
    generation: Generation | None = None


def candidate_options(options: GenerationOptions, index: int) -> GenerationOptions:
    """The options for the ``index``-th candidate: the first as asked, the others sampled
    with their own seed (derived from the request's, or from 0: the same prompt then gives
    the same list of candidates every time)."""
    if index == 0:
        return options
    seed = (options.seed or 0) + index
    temperature = options.temperature or EXTRA_CANDIDATE_TEMPERATURE
    return dataclasses.replace(options, temperature=temperature, seed=seed, num_beams=1)


def _rank_key(candidate: Candidate) -> float:
    value = candidate.mean_logprob
    return -math.inf if value is None or math.isnan(value) else value


def rank_candidates(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Drop empty texts and duplicates (keeping the better-scored copy); best first by mean
    token log-probability, unknown scores last, ties in their original order."""
    best: dict[str, Candidate] = {}
    for candidate in candidates:
        if not candidate.text.strip():
            continue
        key = candidate.text.rstrip()
        kept = best.get(key)
        if kept is None or _rank_key(candidate) > _rank_key(kept):
            best[key] = candidate
    return sorted(best.values(), key=_rank_key, reverse=True)
