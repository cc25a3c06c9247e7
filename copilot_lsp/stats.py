"""`copilot-lsp stats`: acceptance, latency and cache figures from the local usage log."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from copilot_lsp.usage import default_log_path, read_events

ANSWERED = ("model", "cache", "typing", "none")
"""Request outcomes that count as answered (superseded and not-ready ones do not)."""


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarize(events: list[dict[str, Any]]) -> dict[str, Any]:
    completions = [e for e in events if e.get("event") == "completion"]
    answered = [e for e in completions if e.get("source") in ANSWERED]
    by_source = {source: 0 for source in (*ANSWERED, "superseded", "not-ready")}
    for event in completions:
        source = str(event.get("source"))
        by_source[source] = by_source.get(source, 0) + 1
    # An offer is the candidates of one answer; it counts as accepted when any of them is.
    offer_of = {
        e["id"]: e.get("offer") or e["id"]
        for e in events
        if e.get("event") == "shown" and "id" in e
    }
    shown = set(offer_of.values())
    accepted = {
        offer_of[e["id"]]
        for e in events
        if e.get("event") == "accepted" and e.get("id") in offer_of
    }
    rejected = {
        offer_of[e["id"]]
        for e in events
        if e.get("event") == "rejected" and e.get("id") in offer_of
    } - accepted
    without_model = by_source["cache"] + by_source["typing"]
    reached_cache = by_source["cache"] + by_source["model"]
    latency: dict[str, dict[str, float | None]] = {}
    for label, group in [("all", answered)] + [
        (source, [e for e in answered if e.get("source") == source]) for source in ANSWERED
    ]:
        values = [float(e["latency_ms"]) for e in group if "latency_ms" in e]
        if values:
            latency[label] = {
                "p50": percentile(values, 0.5),
                "p90": percentile(values, 0.9),
                "p99": percentile(values, 0.99),
            }
    return {
        "requests": len(completions),
        "answered": len(answered),
        "by_source": by_source,
        "suggestions_shown": len(shown),
        "accepted": len(accepted),
        "rejected": len(rejected),
        "acceptance_rate": len(accepted) / len(shown) if shown else None,
        "without_model_call": without_model / len(answered) if answered else None,
        "cache_hit_rate": by_source["cache"] / reached_cache if reached_cache else None,
        "typing_through_rate": by_source["typing"] / len(answered) if answered else None,
        "latency_ms": latency,
    }


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms"


def render(summary: dict[str, Any], path: Path) -> str:
    sources = ", ".join(f"{key} {value}" for key, value in summary["by_source"].items() if value)
    lines = [
        f"usage log: {path}",
        f"requests: {summary['requests']} ({sources or 'none'})",
        f"suggestions shown: {summary['suggestions_shown']}, accepted: {summary['accepted']}, "
        f"rejected: {summary['rejected']}",
        f"acceptance rate: {_percent(summary['acceptance_rate'])}",
        f"answered without a model call: {_percent(summary['without_model_call'])} "
        f"(typing-through {_percent(summary['typing_through_rate'])}, "
        f"cache hit rate {_percent(summary['cache_hit_rate'])} of cache lookups)",
        "latency (p50 / p90 / p99):",
    ]
    for label, values in summary["latency_ms"].items():
        lines.append(
            f"  {label:7} {_ms(values['p50'])} / {_ms(values['p90'])} / {_ms(values['p99'])}"
        )
    return "\n".join(lines) + "\n"


def add_stats_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "stats",
        help="acceptance rate, latency percentiles and cache hit rate from the usage log",
    )
    parser.add_argument(
        "--log", type=Path, default=None, help=f"default: {default_log_path()}", metavar="PATH"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


SIGPIPE_EXIT = 128 + 13
"""The exit status of a command whose reader went away, as the shell reports SIGPIPE."""


def run_stats(args: argparse.Namespace) -> int:
    path = args.log or default_log_path()
    if not path.is_file():
        print(f"copilot-lsp stats: no usage log at {path} (nothing recorded yet)", file=sys.stderr)
        return 1
    try:
        summary = summarize(read_events(path))
    except OSError as error:
        print(f"copilot-lsp stats: cannot read {path}: {error.strerror or error}", file=sys.stderr)
        return 1
    text = json.dumps(summary, indent=2) + "\n" if args.json else render(summary, path)
    return _print(text)


def _print(text: str) -> int:
    """Print ``text``; when the reader has gone (``stats | head``) stop quietly."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would report the failed flush again at exit: point stdout at devnull.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return SIGPIPE_EXIT
    return 0
