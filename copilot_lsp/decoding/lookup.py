"""Prompt-lookup drafting: guess the next tokens from an earlier place in the prompt.

Code completions often repeat what the prompt already holds (a name, an argument list, a
line like the one above). When the last few tokens occurred before, the tokens that followed
them then are a cheap guess at what comes next; the model checks a whole guess in one batch
(:func:`copilot_lsp.decoding.loop.decode`), so each accepted token saves a forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

NGRAM_SIZES = (3, 2)
"""Match lengths tried, longest first (single tokens match too often to be a good guess)."""


def prompt_lookup(history: Sequence[int], max_tokens: int) -> list[int]:
    """The tokens that followed the latest earlier occurrence of the last n tokens of
    ``history`` (n from :data:`NGRAM_SIZES`), at most ``max_tokens``; [] when none."""
    if max_tokens <= 0:
        return []
    ids = np.asarray(history, dtype=np.int64)
    for size in NGRAM_SIZES:
        if len(ids) <= size:
            continue
        tail = ids[-size:]
        # Candidate starts whose n tokens equal the tail, excluding the tail itself.
        starts = np.arange(len(ids) - size)
        hits = np.ones(len(starts), dtype=bool)
        for offset in range(size):
            hits &= ids[starts + offset] == tail[offset]
        found = np.flatnonzero(hits)
        if found.size:
            follow = int(found[-1]) + size
            return ids[follow : follow + max_tokens].tolist()
    return []
