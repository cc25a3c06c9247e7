"""Sampling warpers and the sampler on fixed logits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from copilot_lsp.backends.base import GenerationOptions
from copilot_lsp.decoding.sampling import Sampler, build_warpers
from copilot_lsp.decoding.warpers import (
    RepetitionPenalty,
    Temperature,
    TopK,
    TopP,
    log_softmax,
    softmax,
)

LOGITS = np.array([2.0, 1.0, 0.5, -1.0, 3.0], dtype=np.float32)


def kept(logits: np.ndarray) -> list[int]:
    return sorted(int(i) for i in np.flatnonzero(np.isfinite(logits)))


def test_temperature_scales_logits() -> None:
    np.testing.assert_allclose(Temperature(0.5)(LOGITS, []), LOGITS * 2)
    np.testing.assert_allclose(Temperature(2.0)(LOGITS, []), LOGITS / 2)


def test_top_k_keeps_the_k_best() -> None:
    assert kept(TopK(2)(LOGITS, [])) == [0, 4]
    assert kept(TopK(1)(LOGITS, [])) == [4]
    np.testing.assert_array_equal(TopK(10)(LOGITS, []), LOGITS)


def test_top_p_keeps_the_smallest_set_reaching_the_mass() -> None:
    probs = softmax(LOGITS)  # order by probability: 4, 0, 1, 2, 3
    assert kept(TopP(0.5)(LOGITS, [])) == [4]  # the best alone has > 0.5
    need_two = float(probs[4]) + 0.01
    assert kept(TopP(need_two)(LOGITS, [])) == [0, 4]
    assert kept(TopP(1.0)(LOGITS, [])) == [0, 1, 2, 3, 4]
    # Kept logits are unchanged; the others cannot be drawn.
    out = TopP(need_two)(LOGITS, [])
    assert out[4] == LOGITS[4] and out[1] == -np.inf


def test_top_p_after_top_k_only_looks_at_survivors() -> None:
    out = TopP(0.99)(TopK(3)(LOGITS, []), [])
    assert kept(out) == [0, 1, 4]


def test_repetition_penalty_makes_seen_tokens_less_likely() -> None:
    out = RepetitionPenalty(2.0)(LOGITS, [0, 3, 3, 99])  # 99 is outside the vocabulary
    assert out[0] == pytest.approx(1.0)  # positive: divided
    assert out[3] == pytest.approx(-2.0)  # negative: multiplied
    np.testing.assert_array_equal(out[[1, 2, 4]], LOGITS[[1, 2, 4]])
    np.testing.assert_array_equal(LOGITS[0], 2.0)  # the input is not modified


@pytest.mark.parametrize(
    "make",
    [
        lambda: Temperature(0),
        lambda: Temperature(-1),
        lambda: Temperature(math.nan),
        lambda: TopK(0),
        lambda: TopK(2.5),
        lambda: TopP(0),
        lambda: TopP(1.5),
        lambda: RepetitionPenalty(0),
        lambda: RepetitionPenalty(math.inf),
    ],
)
def test_invalid_parameters_are_rejected(make) -> None:
    with pytest.raises(ValueError):
        make()


def test_log_softmax_matches_the_definition() -> None:
    expected = np.log(np.exp(LOGITS) / np.exp(LOGITS).sum())
    np.testing.assert_allclose(log_softmax(LOGITS), expected, rtol=1e-6)


def test_greedy_takes_the_argmax_and_reports_its_log_probability() -> None:
    sampler = Sampler(GenerationOptions(temperature=0.0))
    token, logprob = sampler(LOGITS, [])
    assert token == 4
    assert logprob == pytest.approx(float(log_softmax(LOGITS)[4]), rel=1e-5)


def test_greedy_with_a_repetition_penalty_avoids_the_repeated_token() -> None:
    sampler = Sampler(GenerationOptions(temperature=0.0, repetition_penalty=2.0))
    assert sampler(LOGITS, [4])[0] == 0  # 3.0 / 2 = 1.5 < 2.0


def test_sampling_is_reproducible_with_a_seed_and_follows_the_distribution() -> None:
    options = GenerationOptions(temperature=1.0, top_k=0, top_p=1.0, seed=7)
    draws = [Sampler(options)(LOGITS, [])[0] for _ in range(3)]
    assert len(set(draws)) == 1
    sampler = Sampler(options)
    counts = np.bincount([sampler(LOGITS, [])[0] for _ in range(4000)], minlength=5) / 4000
    np.testing.assert_allclose(counts, softmax(LOGITS), atol=0.03)


def test_sampling_never_draws_a_filtered_token() -> None:
    sampler = Sampler(GenerationOptions(temperature=1.5, top_k=2, top_p=1.0, seed=1))
    assert {sampler(LOGITS, [])[0] for _ in range(500)} == {0, 4}


def test_the_chain_follows_the_options() -> None:
    assert build_warpers(GenerationOptions(temperature=0.0)) == []
    chain = build_warpers(
        GenerationOptions(temperature=0.7, top_k=5, top_p=0.9, repetition_penalty=1.2)
    )
    assert chain == [RepetitionPenalty(1.2), Temperature(0.7), TopK(5), TopP(0.9)]
    assert build_warpers(GenerationOptions(temperature=0.7, top_k=0, top_p=1.0)) == [
        Temperature(0.7),
        TopP(1.0),
    ]
    with pytest.raises(ValueError):
        build_warpers(GenerationOptions(temperature=-0.1))
    with pytest.raises(ValueError):
        build_warpers(GenerationOptions(temperature=0.5, top_k=-1))
