"""A simple typing replay: how many requests the cache and typing-through answer.

A simulated user retypes lines of the example files one character at a time; before each
keystroke the editor asks for an automatic completion (through the real request flow and
the real model, without the LSP transport and with no debounce, one request at a time).
The user accepts a suggestion (Tab) when its first line is exactly what they were about to
type, and mistypes one character then deletes it once per line (the state after the
deletion was seen before: a cache hit). The full latency benchmark is
``copilot-lsp bench latency``; this is the quick check for the flow's own figures.

    PYTHONPATH=. python scripts/typing_replay.py --model fast --lines 8 [--naive]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from copilot_lsp.backends.base import Backend, CancelToken
from copilot_lsp.config import Settings
from copilot_lsp.features.completion_service import CompletionService
from copilot_lsp.model_host import ModelHost, ModelSpec

T = TypeVar("T")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@dataclasses.dataclass(frozen=True)
class Target:
    uri: str
    text: str
    """The document with the target line's code removed (its indentation kept)."""
    cursor: int
    line: str
    """The code the user types."""


def targets(limit: int) -> list[Target]:
    """Lines with real code (15 to 70 characters), spread over the example files."""
    found: list[Target] = []
    files = sorted(p for p in EXAMPLES.rglob("*") if p.suffix in (".py", ".js", ".go"))
    per_file = max(1, -(-limit // len(files)))
    for path in files:
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        picked = 0
        for index in range(4, len(lines), 5):
            code = lines[index].strip()
            if not 15 <= len(code) <= 70 or code.startswith(("#", "//", '"""', "import")):
                continue
            indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
            head = "\n".join(lines[:index]) + "\n" + indent
            rest = "\n" + "\n".join(lines[index + 1 :])
            found.append(Target(path.as_uri(), head + rest, len(head), code))
            picked += 1
            if picked == per_file:
                break
    return found[:limit]


class CountingRunner:
    """The model host, counting the generations that really reach the model."""

    def __init__(self, host: ModelHost) -> None:
        self.host = host
        self.generations = 0

    @property
    def state(self) -> str:
        return self.host.state

    async def run(self, work: Callable[[Backend, CancelToken], T]) -> T:
        runner = self

        class Counted:
            def __init__(self, inner: Backend) -> None:
                self.inner, self.name, self.model_path = inner, inner.name, inner.model_path

            def generate(self, *args: Any, **kwargs: Any) -> Any:
                runner.generations += 1
                return self.inner.generate(*args, **kwargs)

            def close(self) -> None:
                pass

        return await self.host.run(lambda backend, cancel: work(Counted(backend), cancel))


async def replay(targets: list[Target], settings: Settings, runner: CountingRunner) -> Counter:
    service = CompletionService(runner)
    sources: Counter = Counter()
    accepted = 0

    async def ask(uri: str, prefix: str, suffix: str) -> str:
        result = await service.complete(uri, prefix, suffix, False, settings)
        sources[result.source] += 1
        return result.text

    for target in targets:
        prefix, suffix = target.text[: target.cursor], target.text[target.cursor :]
        typed = 0
        mistyped = False
        while typed < len(target.line):
            shown = await ask(target.uri, prefix, suffix)
            rest = target.line[typed:]
            first = shown.split("\n", 1)[0]
            if first and rest.startswith(first):
                accepted += 1  # Tab
                prefix += first
                typed += len(first)
                continue
            if not mistyped and typed >= 3:
                mistyped = True
                await ask(target.uri, prefix + "§", suffix)  # a typo...
                continue  # ...deleted: the next request repeats this state
            prefix += target.line[typed]
            typed += 1
    sources["accepted"] = accepted
    return sources


async def main_async(args: argparse.Namespace) -> int:
    host = ModelHost()
    settings = Settings(model=args.model, threads=args.threads, debounce_ms=0)
    if args.naive:
        settings = dataclasses.replace(settings, cache=False, typing_through=False)
    await host.load(ModelSpec.of(settings), lambda message: print(message, file=sys.stderr))
    runner = CountingRunner(host)
    chosen = targets(args.lines)
    started = time.perf_counter()
    sources = await replay(chosen, settings, runner)
    seconds = time.perf_counter() - started
    host.close()
    requests = sum(count for source, count in sources.items() if source != "accepted")
    lookups = sources["cache"] + sources["model"]
    print(f"lines typed: {len(chosen)} ({sum(len(t.line) for t in chosen)} characters)")
    print(f"requests: {requests}  by answer source: {dict(sources)}")
    print(f"generations run by the model: {runner.generations}")
    print(f"answered without a model call: {1 - runner.generations / requests:.1%}")
    print(f"typing-through: {sources['typing'] / requests:.1%} of requests")
    print(f"cache hit rate: {sources['cache'] / lookups:.1%} of cache lookups" if lookups else "")
    print(f"suggestions accepted (Tab): {sources['accepted']}; wall time {seconds:.0f} s")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", default="fast")
    parser.add_argument("--lines", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--naive", action="store_true", help="cache and typing-through off")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
