"""How long context + prompt building takes per request, on a 50-file workspace.

    copilot-lsp bench context [--files 50] [--requests 300] [--model fast]

The workspace is a copy of the first ``--files`` modules of an installed multi-module
package (rich), so imports resolve as in a real project; a few files are open as editor
tabs. The simulated user opens a new line somewhere in a tab and types a statement on it;
each character is a change event and a request, which runs what a completion runs before
the model: cursor analysis (with the incremental reparse), cross-file snippets, the prompt.
``--model`` uses that preset's tokenizer for token counts (the default, ``none``,
estimates them).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from copilot_lsp.bench.replay import percentile
from copilot_lsp.context.engine import ContextEngine
from copilot_lsp.eval.crossfile import package_dir
from copilot_lsp.features.prompting import build_prompt, template_for, token_counter
from copilot_lsp.prompt.budget import TokenBudget, approximate_tokens
from copilot_lsp.prompt.templates import QWEN25_CODER

TYPED = "result = self.render(options, console.width)"
"""What the simulated user types on each new line, one request per character."""
_CLOSERS = {"(": ")", "[": "]", "{": "}"}


def make_workspace(target: Path, files: int, package: str = "rich") -> list[Path]:
    source = package_dir(package)
    # Public top-level modules first: they import each other (private helpers and data
    # tables such as rich/_unicode_data/ would fill a small workspace with files nobody opens).
    modules = sorted(
        source.rglob("*.py"),
        key=lambda m: (m.parent != source, m.name.startswith("_"), m.as_posix()),
    )[:files]
    copied = []
    for module in modules:
        destination = target / package / module.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(module, destination)
        copied.append(destination)
    return copied


def add_context_parser(bench: Any) -> None:
    parser = bench.add_parser("context", help=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--open", type=int, default=6, help="files open as editor tabs")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--model", default="none", help="preset whose tokenizer counts tokens")
    parser.add_argument("--seed", type=int, default=0)


def run_context(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    template, count = QWEN25_CODER, approximate_tokens
    if args.model != "none":
        from copilot_lsp.backends.llamacpp import LlamaCppBackend
        from copilot_lsp.models import resolve_model

        backend = LlamaCppBackend(str(resolve_model(args.model)), context_window=4096, threads=1)
        template, count = template_for(backend), token_counter(backend)
    budget = TokenBudget()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        files = make_workspace(root, args.files)
        engine = ContextEngine()
        started = time.perf_counter()
        engine.add_workspace_folder(root.as_uri(), background=False)
        index_ms = (time.perf_counter() - started) * 1000
        opened = rng.sample(files, min(args.open, len(files)))
        texts = {}
        for path in opened:
            texts[path.as_uri()] = path.read_text(encoding="utf-8")
            engine.open(path.as_uri(), texts[path.as_uri()], "python")
        timings, snippet_counts, prompt_chars, analysis_timings = [], [], [], []
        cpu_timings: list[float] = []
        uri = rng.choice(list(texts))
        cursor = 0
        typing = ""
        for request in range(args.requests):
            if not typing:  # move to another place: a new line below some line of a tab
                uri = rng.choice(list(texts))
                text = texts[uri]
                lines = text.split("\n")
                line = rng.randrange(len(lines) // 4, len(lines))
                cursor = sum(len(x) + 1 for x in lines[: line + 1]) - 1
                indent = lines[line][: len(lines[line]) - len(lines[line].lstrip())]
                texts[uri] = text[:cursor] + "\n" + indent + text[cursor:]
                cursor += 1 + len(indent)
                typing = TYPED
            text = texts[uri]
            char, typing = typing[0], typing[1:]
            if char in _CLOSERS.values() and text[cursor : cursor + 1] == char:
                pass  # typing over the auto-inserted closer
            else:  # as editors do, an opening bracket comes with its closer
                text = text[:cursor] + char + _CLOSERS.get(char, "") + text[cursor:]
            cursor += 1
            texts[uri] = text
            engine.change(uri, text, request + 2)
            prefix, suffix = text[:cursor], text[cursor:]
            started, cpu_started = time.perf_counter(), time.thread_time()
            engine.analyze(uri, prefix, suffix, "python")
            analysis_timings.append((time.perf_counter() - started) * 1000)
            built = build_prompt(
                template, prefix, suffix, budget, count, engine, uri,
                engine.display_path(uri), "python",
            )  # fmt: skip
            timings.append((time.perf_counter() - started) * 1000)
            cpu_timings.append((time.thread_time() - cpu_started) * 1000)
            snippet_counts.append(len(built.snippets))
            prompt_chars.append(len(built.text))
    print(
        f"workspace: {args.files} files ({len(engine.workspace.files())} indexed in "
        f"{index_ms:.0f} ms), {len(opened)} open; {args.requests} requests; "
        f"tokens: {args.model if args.model != 'none' else 'estimated'}"
    )
    print(
        f"context+prompt ms: p50 {percentile(timings, 0.5):.2f}  p90 {percentile(timings, 0.9):.2f}"
        f"  p99 {percentile(timings, 0.99):.2f}  max {max(timings):.2f}"
        f"  (first request {timings[0]:.2f})"
    )
    print(
        f"  CPU time (what it costs on an idle machine): p50 {percentile(cpu_timings, 0.5):.2f}"
        f"  p90 {percentile(cpu_timings, 0.9):.2f}  p99 {percentile(cpu_timings, 0.99):.2f}"
    )
    print(
        f"  of which cursor analysis (incremental reparse): p50 "
        f"{percentile(analysis_timings, 0.5):.2f}  p99 {percentile(analysis_timings, 0.99):.2f}"
    )
    print(
        f"snippets per prompt: mean {statistics.mean(snippet_counts):.1f}; "
        f"prompt chars: mean {statistics.mean(prompt_chars):.0f}"
    )
    return 0
