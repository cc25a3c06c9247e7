"""The ``copilot-lsp eval`` subcommand: its options and what it runs.

``cli.py`` wires it in with :func:`add_eval_parser` and :func:`run_eval`;
``python -m copilot_lsp.eval`` runs it on its own.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from copilot_lsp.argtypes import at_least
from copilot_lsp.backends.base import Backend, BackendError
from copilot_lsp.eval.datasets import BENCHMARKS, INFILL_CURSORS, load_benchmark, select
from copilot_lsp.eval.model import load_model, model_label
from copilot_lsp.eval.oracle import OracleBackend
from copilot_lsp.eval.runner import EvalError, RunConfig, timed_run
from copilot_lsp.eval.task import DatasetError, Task
from copilot_lsp.models import AUTO, PRESETS, ModelError, concrete_model
from copilot_lsp.prompt.budget import TokenBudget

MAX_NEW_TOKENS = {
    "single-line": 64,
    "crossfile": 64,
    "cceval": 64,
    "multi-line": 256,
    "random-span": 256,
    "random-span-light": 256,
}
"""Per-benchmark default for --max-new-tokens (others: 256)."""
SAMPLED_TEMPERATURE = 0.8
"""Default temperature when --samples > 1 (the Codex paper's best for pass@100)."""
EVAL_MODEL = "quality"
"""Scores should not depend on the machine they were measured on, so the harness does not
follow the editor's default (``auto``, which picks by the number of cores)."""
MIN_PROMPT_TOKENS = 64
"""The smallest prompt budget ``TokenBudget`` takes."""


def add_eval_parser(subparsers: Any) -> None:
    """Add the ``eval`` subcommand to ``subparsers`` (from ``add_subparsers``)."""
    parser = subparsers.add_parser(
        "eval",
        help="run a benchmark through the completion pipeline (pass@k, exact match)",
        description="Complete benchmark tasks through the same pipeline the editor uses, "
        "run their tests in a sandbox and report pass@k (or exact match and edit similarity "
        "for cross-file line completion).",
    )
    parser.add_argument(
        "--benchmark",
        default=None,
        metavar="NAME[,NAME...]",
        help=f"one or more of: {', '.join(BENCHMARKS)} (default: humaneval); or testgen "
        "(unit tests generated for HumanEval solutions, run on them and on a mutant)",
    )
    parser.add_argument(
        "--tasks",
        action="append",
        default=[],
        metavar="PATTERN[,PATTERN...]",
        help="keep only these benchmark names and/or task-id globs (e.g. 'HumanEval/1*')",
    )
    parser.add_argument("--limit", type=at_least(1), default=None, help="problems per benchmark")
    parser.add_argument("--seed", type=int, default=0, help="picks the --limit subset")
    parser.add_argument(
        "--model",
        default=EVAL_MODEL,
        help=f"preset ({', '.join([AUTO, *PRESETS])}) or path to a GGUF file (default: "
        "%(default)s, whatever the machine)",
    )
    parser.add_argument("--samples", type=at_least(1), default=1, help="completions per task (n)")
    parser.add_argument(
        "--temperature",
        type=at_least(0, float),
        default=None,
        help=f"0 for --samples 1 (greedy), else {SAMPLED_TEMPERATURE}; top_p is 0.95",
    )
    parser.add_argument(
        "--max-new-tokens",
        type=at_least(1),
        default=None,
        help="default: 64 for line tasks, else 256",
    )
    parser.add_argument(
        "--workers", type=at_least(1), default=2, help="test programs run in parallel"
    )
    parser.add_argument(
        "--threads",
        type=at_least(0),
        default=0,
        help="CPU threads for the model (0: all cores; 1 is faster on a busy machine)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="default: out/eval/<benchmark>-<model>"
    )
    parser.add_argument(
        "--infill-cursor",
        choices=INFILL_CURSORS,
        default="indented",
        help="single-/multi-line infilling: cursor after the missing line's indentation "
        "(as after auto-indent) or at column 0 (default: %(default)s)",
    )
    parser.add_argument(
        "--oracle",
        action="store_true",
        help="answer with the reference solutions instead of a model: the pass rate the "
        "pipeline's post-processing leaves possible",
    )
    parser.add_argument(
        "--raw",
        action="store_true",
        help="score the model's raw answer (special markers cut, no stop criterion, no "
        "post-processing): the baseline that shows what post-processing is worth",
    )
    parser.add_argument(
        "--prompt-tokens",
        type=at_least(MIN_PROMPT_TOKENS),
        default=TokenBudget().prompt_tokens,
        help="prompt token budget (local window + cross-file context); default: the "
        "editor's (%(default)s)",
    )
    parser.add_argument(
        "--layout",
        choices=("invoked", "typing"),
        default="invoked",
        help="prompt layout: an invoked request's (default) or an automatic one's while "
        "typing (smaller suffix share, anchored window)",
    )
    parser.add_argument(
        "--no-crossfile-context",
        action="store_true",
        help="cross-file benchmarks: only the variant without cross-file context",
    )


def _benchmarks_and_patterns(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    patterns = [p.strip() for item in args.tasks for p in item.split(",") if p.strip()]
    named = [p.strip() for p in (args.benchmark or "").split(",") if p.strip()]
    named += [p for p in patterns if p in BENCHMARKS and p not in named]
    unknown = [name for name in named if name not in BENCHMARKS]
    if unknown:
        raise DatasetError(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
    return named or ["humaneval"], patterns


def load_tasks(args: argparse.Namespace) -> tuple[list[str], list[Task]]:
    benchmarks, patterns = _benchmarks_and_patterns(args)
    tasks: list[Task] = []
    for name in benchmarks:
        tasks += load_benchmark(
            name, crossfile_context=not args.no_crossfile_context, infill_cursor=args.infill_cursor
        )
    tasks = select(tasks, patterns, args.limit, args.seed)
    if not tasks:
        raise DatasetError("no task matches --tasks/--limit")
    return benchmarks, tasks


def make_config(args: argparse.Namespace, benchmarks: list[str]) -> RunConfig:
    if args.samples < 1:
        raise EvalError("--samples must be at least 1")
    temperature = args.temperature
    if temperature is None:
        temperature = 0.0 if args.samples == 1 else SAMPLED_TEMPERATURE
    if args.samples > 1 and temperature <= 0:
        raise EvalError("--samples > 1 needs --temperature > 0 (greedy samples are identical)")
    max_new_tokens = args.max_new_tokens
    if max_new_tokens is None:
        max_new_tokens = max(MAX_NEW_TOKENS.get(b, 256) for b in benchmarks)
    return RunConfig(
        benchmark="+".join(benchmarks),
        model="oracle" if args.oracle else concrete_model(args.model, getattr(args, "threads", 0)),
        samples=args.samples,
        temperature=temperature,
        top_p=0.95,
        max_new_tokens=max_new_tokens,
        workers=args.workers,
        seed=args.seed,
        infill_cursor=args.infill_cursor,
        postprocess=not getattr(args, "raw", False),
        prompt_tokens=getattr(args, "prompt_tokens", TokenBudget().prompt_tokens),
        layout=getattr(args, "layout", "invoked"),
    )


def write_outputs(out_dir: Path, summary: dict[str, Any], records: list[dict[str, Any]]) -> None:
    from copilot_lsp.eval import plots, report

    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out_dir / "summary.md").write_text(report.markdown(summary), encoding="utf-8")
    plots.pass_at_k_curve(records, out_dir / "pass_at_k.png")
    plots.latency_histogram(records, out_dir / "latency.png")


def run_eval(args: argparse.Namespace, backend: Backend | None = None) -> int:
    """Run ``copilot-lsp eval``; ``backend`` replaces the model (tests pass a fake one)."""
    from copilot_lsp.eval import report, sandbox, testgen

    if testgen.requested(args):  # generated unit tests, scored differently (eval/testgen.py)
        return testgen.run(args, backend)
    try:
        benchmarks, tasks = load_tasks(args)
        config = make_config(args, benchmarks)
        label = config.benchmark + ("@line-start" if args.infill_cursor == "line-start" else "")
        label += "" if config.postprocess else "@raw"
        out_dir = args.out or Path("out") / "eval" / f"{label}-{model_label(config.model)}"
        own_backend = backend is None
        if backend is not None:
            engine = backend
        elif args.oracle:
            engine = OracleBackend(tasks)
        else:
            engine = load_model(config.model, getattr(args, "threads", 0))
        try:
            records, wall = timed_run(
                tasks, engine, config, out_dir, show_progress=sys.stderr.isatty()
            )
        finally:
            if own_backend:
                engine.close()
        box = sandbox.isolation()
        summary = report.summarize(
            records,
            {
                **asdict(config),
                "model_path": getattr(engine, "model_path", None),
                "tasks": len(tasks),
                **wall.summary(),
                "finished_at": time.strftime("%Y-%m-%d %H:%M:%S"),
                "sandbox": {
                    "network_isolated": box.network_isolated,
                    "pid_namespace": box.namespaces,
                    "unprivileged_uid": box.drop_privileges,
                    "python": box.python,
                },
            },
        )
        note = wall.note()
        if note:
            summary["notes"] = [*summary.get("notes", []), note]
        write_outputs(out_dir, summary, records)
    except (DatasetError, ModelError, BackendError, EvalError, OSError) as error:
        print(f"copilot-lsp eval: {error}", file=sys.stderr)
        return 1
    print(report.markdown(summary), end="")
    print(f"\nsamples: {out_dir / 'samples.jsonl'}\nsummary: {out_dir / 'summary.md'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m copilot_lsp.eval [options]``."""
    parser = argparse.ArgumentParser(prog="copilot-lsp")
    add_eval_parser(parser.add_subparsers(dest="command", required=True))
    return run_eval(parser.parse_args(["eval", *(sys.argv[1:] if argv is None else argv)]))
