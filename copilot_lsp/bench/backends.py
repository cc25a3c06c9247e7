"""`copilot-lsp bench backends`: speed and memory of each local backend and model.

Every (backend, model) pair runs in its own subprocess, so that peak RSS belongs to it alone.
In that process one FIM prompt cut from a real source file is measured through our backend
and through a direct call of the underlying library (llama-cpp-python's streamed
``create_completion``, transformers' ``generate``), greedy, for the same number of tokens:

- prefill tokens/s (fresh cache), decode tokens/s, time to first token;
- the cost of one more keystroke (the prompt grows by one character, one token generated)
  with the KV cache of the previous prompt reused, and with a cold cache;
- the ratios ours / direct for the time to first token and the decode time per token;
- llama.cpp: decode tokens/s with prompt-lookup drafting (``--draft-tokens``), and whether
  its answer is the same text (batched and one-token passes round differently);
- peak RSS of the process.

Figures, not assertions: machines differ, and shared machines are noisy (the load average
is printed with the table). Each measurement is the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from copilot_lsp.backends import LOCAL_BACKENDS, load_backend
from copilot_lsp.backends.base import Backend, CancelToken, GenerationOptions
from copilot_lsp.prompt.fim import QWEN25_CODER

SOURCE = Path(__file__).resolve().parent.parent / "eval" / "runner.py"
PREFIX_CHARS = 2400
SUFFIX_CHARS = 600


@dataclass
class Row:
    backend: str
    model: str
    prompt_tokens: int
    new_tokens: int
    load_s: float
    prefill_tok_s: float
    decode_tok_s: float
    ttft_s: float
    direct_ttft_s: float
    direct_decode_tok_s: float
    keystroke_reuse_s: float
    keystroke_cold_s: float
    reused_tokens: int
    peak_rss_mb: float
    drafted_decode_tok_s: float | None = None
    drafted_same_text: bool | None = None

    @property
    def ttft_ratio(self) -> float:
        return self.ttft_s / self.direct_ttft_s

    @property
    def decode_ratio(self) -> float:
        """Our time per decoded token over the library's (1.00 = no overhead)."""
        return self.direct_decode_tok_s / self.decode_tok_s


def bench_prompt() -> tuple[str, str]:
    """A FIM prompt from a real file, and the same prompt after one more keystroke."""
    text = SOURCE.read_text()
    cursor = text.index("\n", PREFIX_CHARS) + 1
    prefix, suffix = text[:cursor] + "    ", text[cursor : cursor + SUFFIX_CHARS]
    return QWEN25_CODER.render(prefix, suffix), QWEN25_CODER.render(prefix + "r", suffix)


def _runs(runs: int, measure: Callable[[], Any]) -> list[Any]:
    return [measure() for _ in range(runs)]


def _ours(
    backend: Backend, prompt: str, new_tokens: int, draft_tokens: int = 0
) -> tuple[float, float, float, int, int, str]:
    """(prefill tok/s, decode tok/s, TTFT s, prompt tokens, tokens, text), cold cache."""
    backend.reset_cache()  # type: ignore[attr-defined]
    first: list[float] = []
    started = time.perf_counter()

    def note_first(text: str) -> bool:
        if not first:
            first.append(time.perf_counter())
        return False

    options = GenerationOptions(
        max_new_tokens=new_tokens, temperature=0.0, draft_tokens=draft_tokens
    )
    generation = backend.generate(prompt, options, CancelToken(), note_first)
    ended = time.perf_counter()
    ttft = (first[0] if first else ended) - started
    decoded = max(generation.completion_tokens - 1, 1)
    return (
        generation.prompt_tokens / generation.prefill_seconds,
        decoded / max(ended - (first[0] if first else ended), 1e-9),
        ttft,
        generation.prompt_tokens,
        generation.completion_tokens,
        generation.text,
    )


def _keystroke(backend: Backend, before: str, after: str, cold: bool) -> tuple[float, int]:
    """Seconds to answer one token for ``after`` once ``before`` was evaluated."""
    options = GenerationOptions(max_new_tokens=1)
    backend.generate(before, options, CancelToken())
    if cold:
        backend.reset_cache()  # type: ignore[attr-defined]
    started = time.perf_counter()
    generation = backend.generate(after, options, CancelToken())
    return time.perf_counter() - started, generation.reused_prompt_tokens


def _direct_llamacpp(backend: Backend, prompt: str, new_tokens: int) -> tuple[float, float]:
    """(TTFT s, decode tok/s) of llama-cpp-python's own streamed completion, greedy."""
    llm = backend._llm  # type: ignore[attr-defined]
    llm.reset()
    started = time.perf_counter()
    stamps: list[float] = []
    for _chunk in llm.create_completion(
        prompt, max_tokens=new_tokens, temperature=0.0, top_k=1, stream=True
    ):
        stamps.append(time.perf_counter())
    llm.reset()
    return stamps[0] - started, (len(stamps) - 1) / max(stamps[-1] - stamps[0], 1e-9)


def _direct_transformers(backend: Backend, prompt: str, new_tokens: int) -> tuple[float, float]:
    """(TTFT s, decode tok/s) of transformers' ``generate``, greedy, with a streamer
    recording when each token arrives."""
    import torch
    from transformers.generation.streamers import BaseStreamer

    stamps: list[float] = []

    class Stamps(BaseStreamer):
        def put(self, value: Any) -> None:
            stamps.append(time.perf_counter())

        def end(self) -> None:
            pass

    model, tokenizer = backend.model, backend.tokenizer  # type: ignore[attr-defined]
    ids = torch.tensor([tokenizer(prompt)["input_ids"]], device=model.device)
    started = time.perf_counter()
    with torch.inference_mode():
        model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
            do_sample=False,
            streamer=Stamps(),
            pad_token_id=tokenizer.eos_token_id,
        )
    tokens = stamps[1:]  # the first put() is the prompt itself
    return tokens[0] - started, (len(tokens) - 1) / max(tokens[-1] - tokens[0], 1e-9)


DIRECT = {"llamacpp": _direct_llamacpp, "transformers": _direct_transformers}


def measure_one(
    backend_name: str,
    model: str,
    new_tokens: int,
    repeat: int,
    threads: int = 0,
    draft_tokens: int = 0,
) -> Row:
    from copilot_lsp.model_host import ModelSpec, model_location

    spec = ModelSpec(model, backend_name, 4096, threads)
    started = time.perf_counter()
    backend = load_backend(backend_name, model_location(spec, lambda _: None), 4096, threads)
    load_s = time.perf_counter() - started
    prompt, typed = bench_prompt()
    backend.generate(prompt, GenerationOptions(max_new_tokens=2), CancelToken())  # warm up
    ours = _runs(repeat, lambda: _ours(backend, prompt, new_tokens))
    direct = _runs(repeat, lambda: DIRECT[backend_name](backend, prompt, new_tokens))
    reuse = _runs(repeat, lambda: _keystroke(backend, prompt, typed, cold=False))
    cold = _runs(repeat, lambda: _keystroke(backend, prompt, typed, cold=True))
    drafted = []
    if backend_name == "llamacpp" and draft_tokens > 0:
        drafted = _runs(repeat, lambda: _ours(backend, prompt, new_tokens, draft_tokens))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    backend.close()
    return Row(
        backend=backend_name,
        model=model,
        prompt_tokens=ours[0][3],
        new_tokens=max(run[4] for run in ours),
        load_s=round(load_s, 2),
        prefill_tok_s=max(run[0] for run in ours),
        decode_tok_s=max(run[1] for run in ours),
        ttft_s=min(run[2] for run in ours),
        direct_ttft_s=min(run[0] for run in direct),
        direct_decode_tok_s=max(run[1] for run in direct),
        keystroke_reuse_s=min(run[0] for run in reuse),
        keystroke_cold_s=min(run[0] for run in cold),
        reused_tokens=reuse[0][1],
        peak_rss_mb=peak_kb / 1024,
        drafted_decode_tok_s=max(run[1] for run in drafted) if drafted else None,
        drafted_same_text=drafted[0][5] == ours[0][5] if drafted else None,
    )


def table(rows: list[Row]) -> str:
    header = (
        "| backend | model | prompt tok | prefill tok/s | decode tok/s | TTFT s | direct TTFT s "
        "| TTFT ratio | direct decode tok/s | decode ratio | keystroke reuse s (reused tok) "
        "| keystroke cold s | load s | peak RSS MB | drafted decode tok/s (same text) |"
    )
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for r in rows:
        lines.append(
            f"| {r.backend} | {r.model} | {r.prompt_tokens} | {r.prefill_tok_s:.0f} "
            f"| {r.decode_tok_s:.1f} | {r.ttft_s:.2f} | {r.direct_ttft_s:.2f} "
            f"| {r.ttft_ratio:.2f} | {r.direct_decode_tok_s:.1f} | {r.decode_ratio:.2f} "
            f"| {r.keystroke_reuse_s:.3f} ({r.reused_tokens}) | {r.keystroke_cold_s:.3f} "
            f"| {r.load_s:.1f} | {r.peak_rss_mb:.0f} | {_drafted(r)} |"
        )
    return "\n".join(lines)


def _drafted(row: Row) -> str:
    if row.drafted_decode_tok_s is None:
        return "-"
    return f"{row.drafted_decode_tok_s:.1f} ({'yes' if row.drafted_same_text else 'no'})"


def add_backends_parser(entries: Any) -> None:
    """`copilot-lsp bench backends`, an entry of the `bench` group."""
    backends = entries.add_parser(
        "backends", help="prefill/decode speed, TTFT, keystroke cost, RSS per local backend"
    )
    backends.add_argument("--backends", default=",".join(LOCAL_BACKENDS))
    backends.add_argument("--models", default="fast,tiny", help="presets or paths, comma-separated")
    backends.add_argument("--new-tokens", type=int, default=32)
    backends.add_argument("--repeat", type=int, default=2, help="best of N runs")
    backends.add_argument("--threads", type=int, default=0, help="CPU threads; 0 = all cores")
    backends.add_argument(
        "--draft-tokens", type=int, default=4, help="prompt-lookup draft length (llama.cpp)"
    )
    backends.add_argument("--json", type=Path, help="also write the rows here")
    backends.add_argument("--one", nargs=2, metavar=("BACKEND", "MODEL"), help=argparse.SUPPRESS)


def run_bench_backends(args: argparse.Namespace) -> int:
    if args.one:
        row = measure_one(
            args.one[0], args.one[1], args.new_tokens, args.repeat, args.threads, args.draft_tokens
        )
        print(json.dumps(asdict(row)))
        return 0
    rows: list[Row] = []
    for backend in [b for b in args.backends.split(",") if b]:
        for model in [m for m in args.models.split(",") if m]:
            print(f"measuring {backend} / {model} ...", file=sys.stderr, flush=True)
            command = [
                sys.executable,
                "-m",
                "copilot_lsp",
                "bench",
                "backends",
                "--one",
                backend,
                model,
                "--new-tokens",
                str(args.new_tokens),
                "--repeat",
                str(args.repeat),
                "--threads",
                str(args.threads),
                "--draft-tokens",
                str(args.draft_tokens),
            ]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"  failed: {done.stderr.strip()[-800:]}", file=sys.stderr)
                continue
            rows.append(Row(**json.loads(done.stdout.strip().splitlines()[-1])))
    print(table(rows))
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    threads = args.threads or "all"
    print(
        f"\nload average {load} on {os.cpu_count()} CPUs; {threads} threads; best of {args.repeat}"
    )
    if args.json:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=2))
    return 0 if rows else 1
