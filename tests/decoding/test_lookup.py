"""Prompt-lookup drafting and the drafted decode loop, on a scripted model."""

from __future__ import annotations

import numpy as np

from copilot_lsp.backends.base import CancelToken, GenerationOptions
from copilot_lsp.decoding.lookup import prompt_lookup
from copilot_lsp.decoding.loop import Speculation, decode
from copilot_lsp.decoding.sampling import Sampler
from copilot_lsp.decoding.stopping import StopCriteria

VOCAB = 10
EOS = 0


def test_the_tokens_after_the_latest_earlier_match_are_the_guess() -> None:
    history = [5, 6, 7, 1, 2, 5, 6, 7, 3, 4, 9, 5, 6, 7]
    assert prompt_lookup(history, 3) == [3, 4, 9]  # the later of the two earlier matches
    assert prompt_lookup(history, 0) == []
    assert prompt_lookup([1, 2, 3, 4], 5) == []  # nothing repeats
    assert prompt_lookup([8, 2, 3, 1, 2, 3], 2) == [1, 2]  # a 2-token match is enough
    assert prompt_lookup([2, 3, 4, 2, 3], 4) == [4, 2, 3]  # at most what exists


class ScriptedModel:
    """Greedy continuation ``script`` after ``prompt``, as long as what was fed (``kv``) is
    that sequence; after anything else it answers garbage, as a model would."""

    GARBAGE = 9

    def __init__(self, prompt: list[int], script: list[int]) -> None:
        self.sequence = prompt + script
        self.kv = list(prompt)
        self.passes = 0
        self.discarded = 0

    def next_logits(self) -> np.ndarray:
        out = np.full(VOCAB, -5.0, dtype=np.float32)
        n = len(self.kv)
        right = self.kv == self.sequence[:n] and n < len(self.sequence)
        out[self.sequence[n] if right else self.GARBAGE] = 5.0
        return out

    def forward(self, token: int) -> np.ndarray:
        return self.forward_many([token])[0]

    def forward_many(self, tokens: list[int]) -> np.ndarray:
        self.passes += 1
        rows = []
        for token in tokens:
            self.kv.append(token)
            rows.append(self.next_logits())
        return np.stack(rows)

    def discard(self, count: int) -> None:
        self.discarded += count
        del self.kv[len(self.kv) - count :]


def run(prompt: list[int], script: list[int], draft_tokens: int) -> tuple[list[int], ScriptedModel]:
    model = ScriptedModel(prompt, script)
    options = GenerationOptions()
    criteria = StopCriteria(options, CancelToken(), frozenset({EOS}), 50)
    speculation = Speculation(
        lambda history: prompt_lookup(history, draft_tokens), model.forward_many, model.discard
    )
    decoded = decode(
        model.next_logits(),
        model.forward,
        lambda token: str(token).encode(),
        Sampler(options),
        criteria,
        list(prompt),
        speculation if draft_tokens else None,
    )
    return decoded.tokens, model


def test_drafting_gives_the_same_answer_in_fewer_passes() -> None:
    prompt = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2]
    script = [3, 4, 5, 6, 7, 8, 9, EOS]  # repeats the prompt: every guess is right
    plain, plain_model = run(prompt, script, 0)
    drafted, drafted_model = run(prompt, script, 4)
    assert plain == drafted == script[:-1]
    assert plain_model.passes == len(script) - 1
    assert drafted_model.passes < plain_model.passes / 2
    assert drafted_model.discarded <= 4  # at most the guess past the end


def test_a_wrong_guess_is_discarded_and_the_answer_stays_the_same() -> None:
    prompt = [1, 2, 3, 4, 5, 1, 2]
    script = [3, 7, 7, 8, 1, 2, 3, 4, EOS]  # the guess "4, 5" after "1 2 3" is wrong
    plain, _ = run(prompt, script, 0)
    drafted, model = run(prompt, script, 3)
    assert plain == drafted == script[:-1]
    assert model.discarded > 0
    # What the engine holds starts with the prompt and the answer (a guess may follow).
    assert model.kv[: len(prompt) + len(drafted)] == prompt + drafted
