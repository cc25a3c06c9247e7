"""Turn sample records into the run's summary: pass@k, match metrics, latency, as JSON and
a markdown table."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from typing import Any

from copilot_lsp.eval.passk import pass_at_ks
from copilot_lsp.eval.runner import Record

KS = (1, 10, 100)
NO_RANKING = (
    "ranked pass@1 unavailable: the backend's Generation has no mean_logprob "
    "(records carry mean_logprob=null)"
)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def latency_stats(records: list[Record]) -> dict[str, float] | None:
    values = [r["latency_s"] for r in records if r.get("latency_s") is not None]
    if not values:
        return None
    return {
        "mean": round(statistics.fmean(values), 3),
        "p50": round(_percentile(values, 0.5), 3),
        "p90": round(_percentile(values, 0.9), 3),
        "max": round(max(values), 3),
    }


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def ranked_pass_at_1(records: list[Record]) -> float | None:
    """Per problem, the sample with the highest mean log-probability; its pass rate.

    None unless every record carries ``mean_logprob``.
    """
    if not records or any(r.get("mean_logprob") is None for r in records):
        return None
    best: dict[str, Record] = {}
    for record in records:
        current = best.get(record["problem"])
        if current is None or record["mean_logprob"] > current["mean_logprob"]:
            best[record["problem"]] = record
    return _mean([float(bool(r["passed"])) for r in best.values()])


def summarize_group(records: list[Record]) -> dict[str, Any]:
    problems: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        problems[record["problem"]].append(record)
    summary: dict[str, Any] = {
        "problems": len(problems),
        "samples": len(records),
        "samples_per_problem": min(len(v) for v in problems.values()) if problems else 0,
        "status": dict(Counter(r["status"] for r in records)),
        "latency_s": latency_stats(records),
        "mean_prompt_tokens": _mean([r["prompt_tokens"] for r in records if r["prompt_tokens"]]),
        "mean_completion_tokens": _mean(
            [r["completion_tokens"] for r in records if r["completion_tokens"] is not None]
        ),
        "empty_completions": sum(1 for r in records if not r["completion"].strip()),
    }
    if any("exact_match" in r for r in records):
        scored = [r for r in records if "exact_match" in r]
        summary["exact_match"] = _mean([float(r["exact_match"]) for r in scored])
        summary["edit_similarity"] = _mean([r["edit_similarity"] for r in scored])
        return summary
    counts = [(len(v), sum(bool(r["passed"]) for r in v)) for v in problems.values()]
    summary["pass_at_k"] = {f"pass@{k}": round(v, 4) for k, v in pass_at_ks(counts, KS).items()}
    summary["ranked_pass@1"] = ranked_pass_at_1(records)
    return summary


def summarize(records: list[Record], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Per group (benchmark, or cross-file variant): metrics; ``extra`` is copied in."""
    groups: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        groups[record["group"]].append(record)
    result: dict[str, Any] = dict(extra or {})
    result["groups"] = {name: summarize_group(rows) for name, rows in sorted(groups.items())}
    executable = [g for g in result["groups"].values() if "pass_at_k" in g]
    if executable and all(g["ranked_pass@1"] is None for g in executable):
        result["notes"] = [*result.get("notes", []), NO_RANKING]
    return result


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def markdown(summary: dict[str, Any]) -> str:
    """A table with one row per group, then the run's settings and notes."""
    ks = sorted(
        {k for g in summary["groups"].values() for k in g.get("pass_at_k", {})},
        key=lambda name: int(name.split("@")[1]),
    )
    columns = ["group", "problems", "n", *ks, "ranked pass@1", "EM", "ES", "p50 s", "p90 s"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for name, group in summary["groups"].items():
        latency = group["latency_s"] or {}
        row = [
            name,
            group["problems"],
            group["samples_per_problem"],
            *(group.get("pass_at_k", {}).get(k) for k in ks),
            group.get("ranked_pass@1"),
            group.get("exact_match"),
            group.get("edit_similarity"),
            latency.get("p50"),
            latency.get("p90"),
        ]
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    settings = {k: v for k, v in summary.items() if k not in ("groups", "notes")}
    lines += ["", *(f"- {key}: {value}" for key, value in settings.items())]
    lines += [f"- note: {note}" for note in summary.get("notes", [])]
    return "\n".join(lines) + "\n"
