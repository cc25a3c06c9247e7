"""Benchmarks that print figures (never timed tests): `copilot-lsp bench ...`."""

from __future__ import annotations

import argparse
from typing import Any


def add_bench_parser(commands: Any) -> None:
    bench = commands.add_parser(
        "bench", help="benchmarks that print figures (backends, context, latency)"
    )
    kinds = bench.add_subparsers(dest="bench_command", required=True, metavar="BENCHMARK")
    from copilot_lsp.bench.backends import add_backends_parser
    from copilot_lsp.bench.context_build import add_context_parser
    from copilot_lsp.bench.latency import add_latency_parser

    add_backends_parser(kinds)
    add_context_parser(kinds)
    add_latency_parser(kinds)


def run_bench(args: argparse.Namespace) -> int:
    if args.bench_command == "backends":
        from copilot_lsp.bench.backends import run_bench_backends

        return run_bench_backends(args)
    if args.bench_command == "context":
        from copilot_lsp.bench.context_build import run_context

        return run_context(args)
    if args.bench_command == "latency":
        from copilot_lsp.bench.latency import run_latency

        return run_latency(args)
    raise SystemExit(f"unknown benchmark {args.bench_command!r}")
