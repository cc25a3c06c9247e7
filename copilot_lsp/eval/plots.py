"""PNG figures of a run: the pass@k curve and the completion latency histogram."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from matplotlib import ticker

from copilot_lsp.eval.passk import mean_pass_at_k
from copilot_lsp.eval.runner import Record


def _counts_by_group(records: list[Record]) -> dict[str, list[tuple[int, int]]]:
    problems: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        if record.get("passed") is not None:
            problems[record["group"]][record["problem"]].append(bool(record["passed"]))
    return {
        group: [(len(v), sum(v)) for v in by_problem.values()]
        for group, by_problem in problems.items()
    }


def pass_at_k_curve(records: list[Record], path: Path) -> Path | None:
    """pass@k for k = 1..n per group (log-scaled k when n > 10); None when nothing ran."""
    groups = _counts_by_group(records)
    if not groups:
        return None
    figure, axes = plt.subplots(figsize=(6, 4))
    largest = 1
    for group, counts in sorted(groups.items()):
        n = min(count for count, _ in counts)
        largest = max(largest, n)
        ks = list(range(1, n + 1))
        axes.plot(ks, [mean_pass_at_k(counts, k) for k in ks], marker=".", label=group)
    if largest > 10:
        axes.set_xscale("log")
    axes.xaxis.set_major_formatter(ticker.ScalarFormatter())
    axes.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    axes.set_xlabel("k (samples)")
    axes.set_ylabel("pass@k")
    axes.set_ylim(0, 1)
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def latency_histogram(records: list[Record], path: Path) -> Path | None:
    """Seconds per completion (the pipeline's own clock), one series per group."""
    by_group: dict[str, list[float]] = defaultdict(list)
    for record in records:
        if record.get("latency_s") is not None:
            by_group[record["group"]].append(record["latency_s"])
    if not by_group:
        return None
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.hist(list(by_group.values()), bins=30, label=list(by_group), stacked=True)
    axes.set_xlabel("seconds per completion")
    axes.set_ylabel("completions")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
