"""`copilot-lsp bench latency`: replay human typing through the real server over stdio.

Per preset, two fresh server processes see the same keystrokes and requests: the server as
configured, and the naive baseline (``naiveBaseline: true``: a fresh prefix+suffix prompt
per request, no KV-cache reuse, no answer cache, no typing-through). At each pause the
editor asks for ghost text and the person waits for it (up to ``patience`` seconds, then
the request is cancelled and counts as infinitely slow); between pauses some requests go
stale and are cancelled by the next key press, as VS Code does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import sys
import time
import uuid
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

from copilot_lsp import __version__
from copilot_lsp.backends.base import available_cores
from copilot_lsp.bench.replay import Task, keystrokes, load_tasks, matched_chars, percentile
from copilot_lsp.documents import UTF16, Document
from copilot_lsp.models import DEFAULT_PRESET, concrete_model

OPTIMIZED, BASELINE = "server", "naive-baseline"
WITHOUT_MODEL_COUNTERS = ("fromCache", "typingThrough")


@dataclass
class RequestRecord:
    task: str
    typed: int
    """Characters of the body typed when the request was sent."""
    latency_ms: float
    """math.inf when the person gave up waiting (the request was cancelled)."""
    suggestion: str
    matched: int
    model_calls: int
    """Model calls that finished while the request was open (one answered early with the
    first line of a block finishes later; one of a stale request can finish meanwhile)."""
    counters: dict[str, int]
    """Server counters that moved while answering (fromCache, typingThrough, ...)."""
    generation: dict[str, Any] | None = None
    """The server's report of the model call (prompt, reused and completion tokens,
    prefill and decode seconds): where the time went."""


@dataclass
class Session:
    preset: str
    mode: str
    cold_start_s: float
    peak_rss_mb: float | None
    requests: list[RequestRecord] = field(default_factory=list)
    stale_sent: int = 0
    stale_cancelled: int = 0
    """Stale requests the server acknowledged as cancelled (the rest had finished)."""
    keystrokes: int = 0

    def summary(self) -> dict[str, Any]:
        latencies = [record.latency_ms for record in self.requests]
        answered = [record for record in self.requests if math.isfinite(record.latency_ms)]
        shown = [record for record in answered if record.suggestion]
        count = len(self.requests) or 1

        def share(predicate: Any) -> float:
            return sum(1 for record in answered if predicate(record)) / count

        def rounded(value: float | None) -> float | None:
            return None if value is None or not math.isfinite(value) else round(value, 1)

        return {
            "preset": self.preset,
            "mode": self.mode,
            "requests": len(self.requests),
            "timed_out": len(self.requests) - len(answered),
            "with_suggestion": len(shown),
            "p50_ms": rounded(percentile(latencies, 0.5)),
            "p90_ms": rounded(percentile(latencies, 0.9)),
            "p99_ms": rounded(percentile(latencies, 0.99)),
            "mean_answered_ms": rounded(
                sum(record.latency_ms for record in answered) / len(answered) if answered else None
            ),
            "share_without_model": round(
                share(lambda record: any(record.counters.get(n) for n in WITHOUT_MODEL_COUNTERS)),
                3,
            ),
            **{
                f"share_{name}": round(share(lambda record, n=name: record.counters.get(n)), 3)
                for name in WITHOUT_MODEL_COUNTERS
            },
            "matched_chars": sum(record.matched for record in self.requests),
            "suggested_chars": sum(len(record.suggestion) for record in self.requests),
            "cold_start_s": round(self.cold_start_s, 2),
            "peak_rss_mb": None if self.peak_rss_mb is None else round(self.peak_rss_mb),
            "keystrokes": self.keystrokes,
            "stale_requests": self.stale_sent,
            "stale_cancelled": self.stale_cancelled,
        }


class BenchClient(LanguageClient):
    def __init__(self) -> None:
        super().__init__("copilot-lsp-bench", __version__)

        @self.feature(lsp.WINDOW_SHOW_MESSAGE)
        def on_message(params: lsp.ShowMessageParams) -> None:
            print(f"  [server] {params.message}", file=sys.stderr)


def _as_dict(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {key: _as_dict(item) for key, item in value._asdict().items()}
    return value


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set size (Linux VmHWM), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


async def _drain(stream: asyncio.StreamReader | None, keep: list[str]) -> None:
    while stream is not None and (line := await stream.readline()):
        keep.append(line.decode(errors="replace"))
        del keep[:-50]


class Replay:
    """One server process and the editor that types into it."""

    def __init__(
        self, preset: str, mode: str, patience: float, settings: dict[str, Any] | None = None
    ) -> None:
        self.preset, self.mode, self.patience = preset, mode, patience
        self.settings = settings or {}
        self.client = BenchClient()
        self.log: list[str] = []
        self.session: Session | None = None

    async def status(self) -> dict[str, Any]:
        return _as_dict(await self.client.protocol.send_request_async("copilot/status", {}))

    async def start(self) -> None:
        began = time.perf_counter()
        await self.client.start_io(sys.executable, "-m", "copilot_lsp", "serve")
        self._drain = asyncio.ensure_future(_drain(self.client._server.stderr, self.log))
        options = {**self.settings, "model": self.preset, "naiveBaseline": self.mode == BASELINE}
        await self.client.initialize_async(
            lsp.InitializeParams(
                capabilities=lsp.ClientCapabilities(
                    general=lsp.GeneralClientCapabilities(position_encodings=[UTF16])
                ),
                initialization_options=options,
            )
        )
        self.client.initialized(lsp.InitializedParams())
        while (state := (await self.status())["state"]) not in ("ready", "failed"):
            await asyncio.sleep(0.05)
        if state != "ready":
            raise RuntimeError(f"model {self.preset!r} failed: {(await self.status())['error']}")
        self.session = Session(self.preset, self.mode, time.perf_counter() - began, None)

    async def stop(self) -> None:
        assert self.session is not None
        self.session.peak_rss_mb = peak_rss_mb(self.client._server.pid)
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await asyncio.wait_for(self._drain, timeout=30)

    def _request(self, uri: str, document: Document, cursor: int) -> tuple[str, Future[Any]]:
        line, character = document.position_at(cursor, UTF16)
        params = lsp.InlineCompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=line, character=character),
            context=lsp.InlineCompletionContext(
                trigger_kind=lsp.InlineCompletionTriggerKind.Automatic
            ),
        )
        request_id = str(uuid.uuid4())
        future = self.client.protocol.send_request(
            lsp.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=request_id
        )
        return request_id, future

    def _cancel(self, request_id: str) -> None:
        self.client.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id=request_id))

    async def _pause(self, task: Task, document: Document, cursor: int, typed: int) -> None:
        assert self.session is not None
        before = (await self.status())["counters"]
        began = time.perf_counter()
        request_id, future = self._request(task.uri, document, cursor)
        waiter = asyncio.wrap_future(future)
        done, _ = await asyncio.wait({waiter}, timeout=self.patience)
        latency = (time.perf_counter() - began) * 1000 if done else math.inf
        result = None
        if not done:
            self._cancel(request_id)  # the person typed on: the request is stale
            waiter.add_done_callback(lambda late: late.cancelled() or late.exception())
        elif waiter.exception() is None:
            result = waiter.result()
        suggestion = _suggestion(result, document, cursor)
        current = await self.status()
        after = current["counters"]
        moved = {
            name: after.get(name, 0) - before.get(name, 0)
            for name in after
            if after.get(name, 0) != before.get(name, 0)
        }
        self.session.requests.append(
            RequestRecord(
                task=task.name,
                typed=typed,
                latency_ms=latency,
                suggestion=suggestion,
                matched=matched_chars(suggestion, task.body[typed:]),
                model_calls=moved.get("modelCalls", 0),
                counters=moved,
                generation=current.get("lastGeneration") if moved.get("modelCalls") else None,
            )
        )

    async def type_task(self, task: Task, seed: int) -> None:
        assert self.session is not None
        session = self.session
        document = Document(task.uri, task.text)
        self.client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(
                    uri=task.uri, language_id=task.language_id, version=1, text=task.text
                )
            )
        )
        version, cursor, typed = 1, task.cursor, 0
        stale: tuple[str, Future[Any]] | None = None
        await self._pause(task, document, cursor, typed)
        for key in keystrokes(task.body, seed):
            await asyncio.sleep(key.delay)
            if stale is not None:
                self._cancel(stale[0])
                stale[1].add_done_callback(self._count_stale)
                stale = None
            line, character = document.position_at(cursor, UTF16)
            here = lsp.Position(line=line, character=character)
            version += 1
            self.client.text_document_did_change(
                lsp.DidChangeTextDocumentParams(
                    text_document=lsp.VersionedTextDocumentIdentifier(
                        uri=task.uri, version=version
                    ),
                    content_changes=[
                        lsp.TextDocumentContentChangePartial(
                            range=lsp.Range(start=here, end=here), text=key.text
                        )
                    ],
                )
            )
            document.apply_change(key.text, (line, character), (line, character), UTF16)
            cursor += len(key.text)
            typed += len(key.text)
            session.keystrokes += 1
            if key.pause:
                await self._pause(task, document, cursor, typed)
            elif key.stale_request:
                stale = self._request(task.uri, document, cursor)
                session.stale_sent += 1
        if stale is not None:
            self._cancel(stale[0])
            stale[1].add_done_callback(self._count_stale)
        self.client.text_document_did_close(
            lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=task.uri))
        )

    def _count_stale(self, future: Future[Any]) -> None:
        if self.session is not None and future.exception() is not None:
            self.session.stale_cancelled += 1


def _suggestion(result: Any, document: Document, cursor: int) -> str:
    """The ghost text as it would appear after the cursor (typing-through answers may
    start their range before the cursor)."""
    items = result.items if isinstance(result, lsp.InlineCompletionList) else result or []
    if not items:
        return ""
    item = items[0]
    insert = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
    if item.range is None:
        return insert
    start = document.offset_at(item.range.start.line, item.range.start.character, UTF16, clamp=True)
    already = document.text[start:cursor]
    return insert[len(already) :] if insert.startswith(already) else ""


async def run_session(
    preset: str,
    mode: str,
    tasks: list[Task],
    seed: int,
    patience: float,
    settings: dict[str, Any] | None = None,
) -> Session:
    replay = Replay(preset, mode, patience, settings)
    await replay.start()
    assert replay.session is not None
    print(f"{preset}/{mode}: ready after {replay.session.cold_start_s:.1f} s", file=sys.stderr)
    try:
        for index, task in enumerate(tasks):
            await replay.type_task(task, seed + index)
            done = replay.session.requests
            print(f"  {task.name}: {len(done)} requests so far", file=sys.stderr)
    finally:
        await replay.stop()
    return replay.session


def plot_cdf(sessions: list[Session], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for session in sessions:
        values = sorted(record.latency_ms for record in session.requests)
        finite = [value for value in values if math.isfinite(value)]
        if not finite:
            continue
        fractions = [(index + 1) / len(values) for index in range(len(finite))]
        axes.step(finite, fractions, where="post", label=f"{session.preset} / {session.mode}")
    axes.set_xscale("log")
    axes.set_xlabel("request -> answer (ms, log scale)")
    axes.set_ylabel("share of requests answered")
    axes.set_ylim(0, 1.02)
    for limit in (400, 1500):
        axes.axvline(limit, color="grey", linestyle=":", linewidth=1)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="upper left")
    axes.set_title("copilot-lsp: latency of automatic requests while typing")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def compare(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """Per preset: how many times faster the server is than the baseline."""
    by_key = {(summary["preset"], summary["mode"]): summary for summary in summaries}
    result = {}
    for preset in dict.fromkeys(summary["preset"] for summary in summaries):
        ours, naive = by_key.get((preset, OPTIMIZED)), by_key.get((preset, BASELINE))
        if ours is None or naive is None:
            continue

        def ratio(key: str, ours: dict = ours, naive: dict = naive) -> float | None:
            if ours[key] is None or naive[key] is None or not ours[key]:
                return None
            return round(naive[key] / ours[key], 2)

        result[preset] = {
            "p50_speedup": ratio("p50_ms"),
            "p90_speedup": ratio("p90_ms"),
            "matched_chars": ours["matched_chars"],
            "matched_chars_baseline": naive["matched_chars"],
        }
    return result


def print_table(summaries: list[dict[str, Any]], comparison: dict[str, Any]) -> None:
    def show(value: Any) -> str:
        return "timeout" if value is None else f"{value:.0f}"

    print(
        f"{'preset':8} {'mode':15} {'reqs':>4} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} "
        f"{'no-model':>8} {'matched':>7} {'cold s':>6} {'RSS MiB':>7}"
    )
    for summary in summaries:
        print(
            f"{summary['preset']:8} {summary['mode']:15} {summary['requests']:>4} "
            f"{show(summary['p50_ms']):>7} {show(summary['p90_ms']):>7} "
            f"{show(summary['p99_ms']):>7} {summary['share_without_model']:>8.0%} "
            f"{summary['matched_chars']:>7} {summary['cold_start_s']:>6.1f} "
            f"{summary['peak_rss_mb'] or 0:>7.0f}"
        )

    def ratio(value: float | None) -> str:
        return "n/a (timeouts)" if value is None else f"{value}x"

    for preset, figures in comparison.items():
        print(
            f"{preset}: p50 {ratio(figures['p50_speedup'])}, p90 {ratio(figures['p90_speedup'])} "
            f"faster than the baseline; matched chars {figures['matched_chars']} vs "
            f"{figures['matched_chars_baseline']}"
        )


async def _bench(args: argparse.Namespace) -> int:
    tasks = load_tasks(args.examples, args.tasks, args.seed)
    if not tasks:
        print(f"copilot-lsp: no function bodies found under {args.examples}", file=sys.stderr)
        return 2
    print(f"{len(tasks)} bodies: {', '.join(task.name for task in tasks)}", file=sys.stderr)
    modes = [OPTIMIZED] if args.no_baseline else [OPTIMIZED, BASELINE]
    load_before = os.getloadavg()  # other jobs on a shared machine slow everything down
    sessions = []
    for preset in args.preset or ["quality", "fast"]:
        for mode in modes:
            sessions.append(
                await run_session(preset, mode, tasks, args.seed, args.patience, args.setting)
            )
    summaries = [session.summary() for session in sessions]
    comparison = compare(summaries)
    default_here = concrete_model(DEFAULT_PRESET)
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "version": __version__,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
        },
        "default_preset": default_here,
        "seed": args.seed,
        "patience_s": args.patience,
        "settings": args.setting,
        "tasks": [{"name": task.name, "chars": len(task.body)} for task in tasks],
        "summaries": summaries,
        "comparison": comparison,
        "requests": [
            {
                "preset": session.preset,
                "mode": session.mode,
                **asdict(record),
                "latency_ms": record.latency_ms if math.isfinite(record.latency_ms) else None,
            }
            for session in sessions
            for record in session.requests
        ],
    }
    report_path = args.out / "latency.json"
    report_path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    plot_cdf(sessions, args.out / "latency-cdf.png")
    print_table(summaries, comparison)
    cores = available_cores()
    print(f"default preset on this machine ({DEFAULT_PRESET}, {cores} cores): {default_here}")
    print(f"report: {report_path}, plot: {args.out / 'latency-cdf.png'}")
    return 0


def _setting(text: str) -> dict[str, Any]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return {name: json.loads(value)}
    except json.JSONDecodeError:
        return {name: value}  # a bare string such as a model path


class _MergeSettings(argparse.Action):
    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        setattr(namespace, self.dest, {**getattr(namespace, self.dest), **values})


def add_latency_parser(bench: Any) -> None:
    parser = bench.add_parser(
        "latency", help="replay human typing through the real server and measure latency"
    )
    parser.add_argument(
        "--preset",
        action="append",
        help="model preset to measure (repeatable; default: quality and fast)",
    )
    parser.add_argument("--examples", type=Path, default=Path("examples"))
    parser.add_argument("--tasks", type=int, default=4, help="function bodies to type back")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--patience",
        type=float,
        default=8.0,
        help="seconds a person waits at a pause before the request counts as too slow",
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive baseline")
    parser.add_argument(
        "--setting",
        type=_setting,
        action=_MergeSettings,
        default={},
        metavar="NAME=JSON",
        help="a server setting for every run, e.g. precompute=false or threads=1 (repeatable)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench-results"))


def run_latency(args: argparse.Namespace) -> int:
    return asyncio.run(_bench(args))
