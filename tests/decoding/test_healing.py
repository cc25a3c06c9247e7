"""Token healing on a toy vocabulary: which tokens agree, what the prompt drops, and the
decode loop writing the dropped text again."""

from __future__ import annotations

import numpy as np

from copilot_lsp.backends.base import CancelToken, GenerationOptions
from copilot_lsp.decoding.healing import Healing, VocabularyIndex, heal
from copilot_lsp.decoding.loop import decode
from copilot_lsp.decoding.sampling import Sampler
from copilot_lsp.decoding.stopping import StopCriteria

PIECES = [
    b"",  # 0: end of text (special)
    b"",  # 1: the FIM middle marker (special)
    b"def",  # 2
    b" sql",  # 3
    b"it",  # 4
    b" sqlite",  # 5
    b"3",  # 6
    b".Connect",  # 7
    b"io",  # 8
    b".Connection",  # 9
    b"ite",  # 10
    b" ",  # 11
    b" s",  # 12
    b"(",  # 13
    b"(self",  # 14
    b"\xff\xff",  # 15
    b"\xff\xffa",  # 16
    b"(\n",  # 17
]
VOCABULARY = VocabularyIndex(PIECES)


def test_agreeing_tokens_start_with_the_text_or_are_a_start_of_it() -> None:
    assert sorted(VOCABULARY.agreeing(b" sqlit").tolist()) == [3, 5, 11, 12]
    assert sorted(VOCABULARY.agreeing(b"it").tolist()) == [4, 10]
    assert sorted(VOCABULARY.agreeing(b"\xff\xff").tolist()) == [15, 16]
    assert VOCABULARY.agreeing(b"zzz").tolist() == []


def test_a_healed_token_may_go_on_to_the_next_line() -> None:
    """At the end of a finished line the model's next line starts with a token like
    ``)\n``: healing must not rule it out (the model would then go on on the same line)."""
    logits = Healing(b"(", VOCABULARY).constrain(np.zeros(len(PIECES), dtype=np.float32))
    assert np.flatnonzero(np.isfinite(logits)).tolist() == [13, 14, 17]


def test_the_word_the_prompt_ends_in_is_dropped_whole() -> None:
    # `` sql`` ``it``: the finished word is the single token `` sqlite``.
    assert heal([1, 2, 3, 4], VOCABULARY) == ([1, 2], Healing(b" sqlit", VOCABULARY))
    # ``.Connect`` ``io``: not just ``io`` (``.Connection`` is one token).
    kept, healing = heal([1, 5, 6, 7, 8], VOCABULARY)
    assert kept == [1, 5, 6] and healing is not None and healing.pending == b".Connectio"


def test_other_text_drops_its_last_token_and_a_special_marker_stays() -> None:
    kept, healing = heal([1, 2, 13], VOCABULARY)
    assert kept == [1, 2] and healing is not None and healing.pending == b"("
    assert heal([2, 3, 1], VOCABULARY) == ([2, 3, 1], None)
    assert heal([3], VOCABULARY) == ([3], None)


def _criteria(max_new_tokens: int) -> StopCriteria:
    options = GenerationOptions(max_new_tokens=max_new_tokens)
    return StopCriteria(options, CancelToken(), frozenset({0}), max_new_tokens)


def test_the_loop_writes_the_dropped_text_first_and_returns_what_follows_it() -> None:
    """The model's favourite first token (``def``) disagrees with `` sqlit``; the best
    agreeing one is chosen, and the answer starts after the dropped text."""
    preference = {5: 3.0, 2: 9.0, 3: 2.0}
    fed: list[int] = []

    def forward(token: int) -> np.ndarray:
        fed.append(token)
        logits = np.full(len(PIECES), -1.0, dtype=np.float32)
        logits[6 if token == 5 else 0] = 5.0  # `` sqlite`` then ``3``, then the end
        return logits

    first = np.full(len(PIECES), -1.0, dtype=np.float32)
    for token, value in preference.items():
        first[token] = value
    decoded = decode(
        first,
        forward,
        PIECES.__getitem__,
        Sampler(GenerationOptions()),
        _criteria(8),
        [1, 2],
        healing=Healing(b" sqlit", VOCABULARY),
    )
    assert decoded.tokens == [5, 6]
    assert decoded.text == "e3"
    assert fed == [5, 6]


def test_a_dropped_word_can_come_back_in_several_tokens() -> None:
    script = iter([3, 4, 6])  # `` sql`` ``it`` ``3``, each the model's favourite
    pending_seen: list[bytes] = []
    healing = Healing(b" sqlit", VOCABULARY)

    def logits_for_next() -> np.ndarray:
        pending_seen.append(healing.pending)
        logits = np.zeros(len(PIECES), dtype=np.float32)
        logits[next(script, 0)] = 5.0
        return logits

    decoded = decode(
        logits_for_next(),
        lambda token: logits_for_next(),
        PIECES.__getitem__,
        Sampler(GenerationOptions()),
        _criteria(8),
        [1],
        healing=healing,
    )
    assert decoded.text == "3"
    assert pending_seen[:3] == [b" sqlit", b"it", b""]
