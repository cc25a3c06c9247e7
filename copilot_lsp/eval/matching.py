"""Text-match metrics for line completion (CrossCodeEval): exact match and edit similarity."""

from __future__ import annotations


def first_line(text: str) -> str:
    """The first non-blank line of a completion, stripped (what line-completion scores)."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def exact_match(prediction: str, reference: str) -> bool:
    return first_line(prediction) == first_line(reference)


def _lcs_length(a: str, b: str) -> int:
    previous = [0] * (len(b) + 1)
    for char_a in a:
        current = [0]
        for j, char_b in enumerate(b):
            current.append(
                previous[j] + 1 if char_a == char_b else max(previous[j + 1], current[j])
            )
        previous = current
    return previous[-1]


def edit_similarity(prediction: str, reference: str) -> float:
    """Normalised indel similarity of the first lines, ``2·LCS / (|a| + |b|)`` in [0, 1].

    The same quantity as ``rapidfuzz.fuzz.ratio / 100``, which CrossCodeEval reports.
    """
    a, b = first_line(prediction), first_line(reference)
    if not a and not b:
        return 1.0
    return 2 * _lcs_length(a, b) / (len(a) + len(b))
