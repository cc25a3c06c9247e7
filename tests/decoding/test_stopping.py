"""Stop criteria and the shared decode loop, on a scripted vocabulary."""

from __future__ import annotations

import numpy as np
import pytest

from copilot_lsp.backends.base import CancelToken, GenerationOptions
from copilot_lsp.decoding.loop import decode
from copilot_lsp.decoding.sampling import Sampler
from copilot_lsp.decoding.stopping import StopCriteria, cut_at_stop_text

VOCAB = ["<eos>", "a", "b", "\n", "<stop>", "é"[:1]]
EOS = 0


class ScriptedModel:
    """Next-token logits that make ``script`` the greedy continuation; counts forwards."""

    def __init__(self, script: list[int]) -> None:
        self.script = script
        self.position = 0
        self.forwards = 0

    def logits(self) -> np.ndarray:
        out = np.full(len(VOCAB), -5.0, dtype=np.float32)
        out[self.script[min(self.position, len(self.script) - 1)]] = 5.0
        return out

    def forward(self, token: int) -> np.ndarray:
        self.forwards += 1
        self.position += 1
        return self.logits()


def run(script: list[int], options: GenerationOptions, cancel: CancelToken | None = None, **kw):
    model = ScriptedModel(script)
    criteria = StopCriteria(
        options, cancel or CancelToken(), frozenset({EOS}), kw.pop("budget", 100), **kw
    )
    decoded = decode(
        model.logits(),
        model.forward,
        lambda token: VOCAB[token].encode(),
        Sampler(options),
        criteria,
        [],
    )
    return decoded, model


def test_cut_at_the_earliest_stop_text() -> None:
    assert cut_at_stop_text("abc<x>def<y>", ["<y>", "<x>"]) == "abc"
    assert cut_at_stop_text("abc", ["<x>", ""]) == "abc"


def test_an_end_token_ends_without_being_part_of_the_answer() -> None:
    decoded, _ = run([1, 2, EOS, 1], GenerationOptions())
    assert (decoded.text, decoded.finish_reason, decoded.tokens) == ("ab", "stop_token", [1, 2])
    assert decoded.mean_logprob is not None and -0.01 < decoded.mean_logprob < 0


def test_stop_token_ids_from_the_options_count_too() -> None:
    options = GenerationOptions()
    criteria = StopCriteria(options, CancelToken(), frozenset({EOS, 2}), 10)
    assert criteria.is_stop_token(2) and not criteria.is_stop_token(1)


def test_a_stop_text_ends_and_is_cut_off() -> None:
    decoded, _ = run([1, 4, 2], GenerationOptions(stop_texts=("<stop>",)))
    assert (decoded.text, decoded.finish_reason) == ("a", "stop_token")


def test_the_callers_criterion_ends_after_a_line() -> None:
    decoded, _ = run([1, 3, 2, 2], GenerationOptions(), stop_check=lambda text: "\n" in text)
    assert (decoded.text, decoded.finish_reason) == ("a\n", "stop_check")


def test_the_token_budget_ends_and_the_last_token_is_not_fed_back() -> None:
    decoded, model = run([1, 2, 1, 2, 1], GenerationOptions(), budget=3)
    assert (decoded.text, decoded.finish_reason) == ("aba", "length")
    assert model.forwards == 2


def test_a_cancel_stops_before_the_next_token() -> None:
    cancel = CancelToken()

    def cancel_after_two(text: str) -> bool:
        if len(text) == 2:
            cancel.cancel()
        return False

    decoded, model = run([1] * 50, GenerationOptions(), cancel, stop_check=cancel_after_two)
    assert decoded.finish_reason == "cancelled"
    assert decoded.tokens == [1, 1]
    assert model.forwards == 2


def test_a_spent_time_budget_stops() -> None:
    options = GenerationOptions(time_budget_s=1e-9)
    decoded, model = run([1] * 50, options)
    assert decoded.finish_reason == "time_budget"
    assert decoded.tokens == [] and model.forwards == 0


def test_invalid_budgets_are_rejected() -> None:
    with pytest.raises(ValueError):
        StopCriteria(GenerationOptions(), CancelToken(), frozenset(), 0)
    with pytest.raises(ValueError):
        StopCriteria(GenerationOptions(time_budget_s=-1), CancelToken(), frozenset(), 5)


def test_a_character_split_across_tokens_is_joined() -> None:
    options = GenerationOptions()
    bytes_of = {1: "é".encode()[:1], 2: "é".encode()[1:]}
    model = ScriptedModel([1, 2, EOS])
    criteria = StopCriteria(options, CancelToken(), frozenset({EOS}), 10)
    decoded = decode(
        model.logits(), model.forward, bytes_of.__getitem__, Sampler(options), criteria, []
    )
    assert decoded.text == "é"
