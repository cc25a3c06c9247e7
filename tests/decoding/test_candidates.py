"""Several candidates: options per candidate, dedup and ranking, and complete() with n."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from copilot_lsp.backends.base import CancelToken, Generation, GenerationOptions, StopCheck
from copilot_lsp.decoding.candidates import Candidate, candidate_options, rank_candidates
from copilot_lsp.features.inline_completion import CompletionRequest, complete


def test_the_first_candidate_keeps_the_options_the_others_are_sampled() -> None:
    greedy = GenerationOptions(temperature=0.0, num_beams=3)
    assert candidate_options(greedy, 0) is greedy
    second, third = candidate_options(greedy, 1), candidate_options(greedy, 2)
    assert second.temperature > 0 and second.num_beams == 1
    assert second.seed != third.seed
    assert candidate_options(greedy, 1) == second  # reproducible
    sampled = GenerationOptions(temperature=0.9, seed=10)
    assert candidate_options(sampled, 2).temperature == 0.9
    assert candidate_options(sampled, 2).seed == 12


def test_ranking_drops_empties_and_duplicates_and_sorts_by_mean_logprob() -> None:
    ranked = rank_candidates(
        [
            Candidate("a", -1.0),
            Candidate("b", -0.2),
            Candidate("a", -0.5),  # duplicate of "a" with a better score
            Candidate("  ", -0.01),
            Candidate("c", None),
            Candidate("d", math.nan),
            Candidate("b\n", -3.0),  # same as "b" up to trailing whitespace
        ]
    )
    assert [(c.text, c.mean_logprob) for c in ranked][:3] == [("b", -0.2), ("a", -0.5), ("c", None)]
    assert [c.text for c in ranked] == ["b", "a", "c", "d"]


@dataclass
class BySeedBackend:
    """Answers depend on the seed, like a sampled model: seed None/0 -> greedy answer."""

    answers: dict[int | None, tuple[str, float]]
    name: str = "by-seed"
    model_path: str = "-"
    seen: list[GenerationOptions] = field(default_factory=list)

    def generate(
        self,
        prompt: str,
        options: GenerationOptions,
        cancel: CancelToken,
        stop_check: StopCheck | None = None,
    ) -> Generation:
        self.seen.append(options)
        text, logprob = self.answers[options.seed]
        return Generation(text, "stop_token", 10, 0, 3, 0.0, 0.0, mean_logprob=logprob)

    def close(self) -> None:
        pass


REQUEST = CompletionRequest(prefix="def add(a, b):\n    return ", suffix="\n", invoked=True)


def test_complete_ranks_distinct_candidates_best_first() -> None:
    backend = BySeedBackend({None: ("a + b", -0.4), 1: ("b + a", -0.1), 2: ("a + b", -0.9)})
    result = complete(backend, REQUEST, GenerationOptions(), CancelToken(), candidates=3)
    assert [c.text for c in result.candidates] == ["b + a", "a + b"]
    assert [c.mean_logprob for c in result.candidates] == [-0.1, -0.4]
    assert result.text == "b + a" and result.generation is result.candidates[0].generation
    assert len(backend.seen) == 3
    assert backend.seen[0].temperature == 0 and backend.seen[1].temperature > 0


def test_complete_asks_once_by_default() -> None:
    backend = BySeedBackend({None: ("a + b", -0.4)})
    result = complete(backend, REQUEST, GenerationOptions(), CancelToken())
    assert len(backend.seen) == 1
    assert result.text == "a + b" and len(result.candidates) == 1


def test_a_cancelled_request_asks_for_no_more_candidates() -> None:
    cancel = CancelToken()
    cancel.cancel()
    backend = BySeedBackend({None: ("a + b", -0.4), 1: ("x", -0.1)})
    complete(backend, REQUEST, GenerationOptions(), cancel, candidates=3)
    assert len(backend.seen) == 1


def test_empty_answers_give_an_empty_result() -> None:
    backend = BySeedBackend({None: ("", -0.4), 1: ("", -0.1)})
    result = complete(backend, REQUEST, GenerationOptions(), CancelToken(), candidates=2)
    assert result.text == "" and result.candidates == []
