"""The unbiased pass@k estimator of the Codex paper (Chen et al., 2021) and its average."""

from __future__ import annotations

from collections.abc import Iterable


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of ``k`` samples drawn from ``n`` (``c`` correct) passes.

    Equals ``1 - C(n-c, k) / C(n, k)``, computed in the numerically stable product form.
    """
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got n={n}, k={k}")
    if n - c < k:
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


def mean_pass_at_k(counts: Iterable[tuple[int, int]], k: int) -> float:
    """Average of :func:`pass_at_k` over problems given as ``(n, c)`` pairs."""
    values = [pass_at_k(n, c, k) for n, c in counts]
    if not values:
        raise ValueError("no problems to average over")
    return sum(values) / len(values)


def pass_at_ks(
    counts: Iterable[tuple[int, int]], ks: Iterable[int] = (1, 10, 100)
) -> dict[int, float]:
    """pass@k for every ``k`` that every problem has enough samples for."""
    pairs = list(counts)
    if not pairs:
        return {}
    fewest = min(n for n, _ in pairs)
    return {k: mean_pass_at_k(pairs, k) for k in ks if k <= fewest}
