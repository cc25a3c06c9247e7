"""pass@k against the exact binomial formula."""

import math
from fractions import Fraction

import pytest

from copilot_lsp.eval.passk import mean_pass_at_k, pass_at_k, pass_at_ks


def exact(n: int, c: int, k: int) -> float:
    return float(1 - Fraction(math.comb(n - c, k), math.comb(n, k)))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 10, 17, 30])
def test_matches_binomial_for_every_c_and_k(n: int) -> None:
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(exact(n, c, k), abs=1e-12)


@pytest.mark.parametrize(
    ("n", "c", "k"),
    [(100, 1, 1), (100, 1, 10), (100, 1, 100), (200, 3, 10), (200, 37, 100), (1000, 5, 100)],
)
def test_matches_binomial_for_large_n(n: int, c: int, k: int) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(exact(n, c, k), rel=1e-9, abs=1e-12)


def test_edge_cases() -> None:
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(10, 10, 1) == 1.0
    assert pass_at_k(10, 6, 5) == 1.0  # n - c < k: every draw of 5 contains a pass
    assert pass_at_k(5, 1, 1) == pytest.approx(0.2)


@pytest.mark.parametrize(("n", "c", "k"), [(5, 6, 1), (5, -1, 1), (5, 1, 0), (5, 1, 6)])
def test_rejects_impossible_arguments(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_average_over_problems() -> None:
    counts = [(10, 0), (10, 5), (10, 10)]
    assert mean_pass_at_k(counts, 1) == pytest.approx(0.5)
    expected = (0 + exact(10, 5, 3) + 1) / 3
    assert mean_pass_at_k(counts, 3) == pytest.approx(expected)
    with pytest.raises(ValueError):
        mean_pass_at_k([], 1)


def test_only_ks_every_problem_has_samples_for() -> None:
    assert set(pass_at_ks([(20, 3), (12, 1)])) == {1, 10}
    assert set(pass_at_ks([(100, 3)])) == {1, 10, 100}
    assert pass_at_ks([]) == {}
