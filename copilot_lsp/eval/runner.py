"""Run tasks through the completion pipeline, check the completions, record every sample.

Completions come one at a time from
:func:`copilot_lsp.features.inline_completion.complete` (the editor's own path); their tests
run meanwhile in a small thread pool over the sandbox. Every finished sample is appended to
``samples.jsonl`` at once, so an interrupted run resumes where it stopped: a rerun skips the
samples already recorded for the same prompt. Each call's wall time is appended to
``runs.jsonl``, so that a resumed run reports the time of all its calls.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from tqdm import tqdm

from copilot_lsp.backends.base import Backend, BackendError, CancelToken, GenerationOptions
from copilot_lsp.eval import matching
from copilot_lsp.eval.crossfile import task_request
from copilot_lsp.eval.sandbox import ExecResult, Limits, run_program
from copilot_lsp.eval.task import Task
from copilot_lsp.features.inline_completion import (
    AUTOMATIC_BUDGET,
    DEFAULT_BUDGET,
    CompletionResult,
    complete,
)
from copilot_lsp.prompt.budget import TokenBudget

SAMPLES_FILE = "samples.jsonl"
CONFIG_FILE = "config.json"
RUNS_FILE = "runs.jsonl"
Record = dict[str, Any]
T = TypeVar("T")


class EvalError(RuntimeError):
    """The run cannot go on (say, its output folder holds a run with other settings)."""


@dataclass(frozen=True)
class RunConfig:
    benchmark: str
    model: str
    samples: int = 1
    """Completions per task: 1 with temperature 0 is greedy pass@1."""
    temperature: float = 0.0
    top_p: float = 0.95
    max_new_tokens: int = 256
    workers: int = 2
    """Sandboxed test programs running at the same time."""
    seed: int = 0
    infill_cursor: str = "indented"
    postprocess: bool = True
    """False scores the model's raw answer (``--raw``): markers cut, nothing else."""
    prompt_tokens: int = TokenBudget().prompt_tokens
    """The prompt's token budget (local window plus cross-file context)."""
    layout: str = "invoked"
    """The prompt layout of an invoked request, or "typing": an automatic one's (a smaller
    share for the suffix, the window anchored to a multiple of 32 lines)."""

    def budget(self) -> TokenBudget:
        base = AUTOMATIC_BUDGET if self.layout == "typing" else DEFAULT_BUDGET
        return replace(base, prompt_tokens=self.prompt_tokens)

    def generation_settings(self) -> dict[str, Any]:
        """What changes the completions; a resumed run must match it."""
        return {
            "model": self.model,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_new_tokens": self.max_new_tokens,
            "infill_cursor": self.infill_cursor,
            "postprocess": self.postprocess,
            "prompt_tokens": self.prompt_tokens,
            "layout": self.layout,
        }


def prompt_sha256(task: Task) -> str:
    return hashlib.sha256(f"{task.prefix}\x00{task.suffix}".encode()).hexdigest()


def read_records(path: Path) -> list[Record]:
    """The samples recorded so far (a line cut short by an interruption is skipped)."""
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def check_config(out_dir: Path, config: RunConfig) -> None:
    """Refuse a folder that holds a run with other generation settings; record ``config``."""
    path = out_dir / CONFIG_FILE
    if path.is_file():
        previous = json.loads(path.read_text(encoding="utf-8"))
        before = {key: previous.get(key) for key in config.generation_settings()}
        if before != config.generation_settings():
            raise EvalError(
                f"{out_dir} holds a run with other settings ({before}); "
                "choose another --out or delete it"
            )
    path.write_text(json.dumps(asdict(config), indent=2) + "\n", encoding="utf-8")


def generate(task: Task, backend: Backend, config: RunConfig) -> CompletionResult:
    """One completion through the product's pipeline, as an explicit request from the user
    (tasks cut from real workspaces get their context from the product's context engine)."""
    with task_request(task) as request:
        return complete(
            backend,
            request,
            GenerationOptions(
                max_new_tokens=config.max_new_tokens,
                temperature=config.temperature,
                top_p=config.top_p,
            ),
            CancelToken(),
            budget=config.budget(),
            postprocess=config.postprocess,
        )


def base_record(task: Task, sample: int, result: CompletionResult | None) -> Record:
    generation = result.generation if result else None
    return {
        "task_id": task.task_id,
        "problem": task.problem,
        "benchmark": task.benchmark,
        "group": task.group or task.benchmark,
        "sample": sample,
        "prompt_sha256": prompt_sha256(task),
        "completion": result.text if result else "",
        "raw": result.raw if result else "",
        "kind": result.kind.value if result else None,
        "finish_reason": generation.finish_reason if generation else None,
        "latency_s": round(result.seconds, 4) if result else None,
        "prompt_tokens": generation.prompt_tokens if generation else None,
        "completion_tokens": generation.completion_tokens if generation else None,
        "mean_logprob": getattr(generation, "mean_logprob", None),
        "snippets": [s.path for s in result.snippets] if result else [],
        "prompt_ms": round(result.prompt_seconds * 1000, 2) if result else None,
    }


def with_execution(record: Record, outcome: ExecResult) -> Record:
    return {
        **record,
        "passed": outcome.passed,
        "status": outcome.status,
        "reason": outcome.reason,
        "exec_seconds": round(outcome.seconds, 4),
        "network_isolated": outcome.network_isolated,
    }


def with_match(record: Record, reference: str) -> Record:
    completion = record["completion"]
    return {
        **record,
        "passed": None,
        "status": "scored",
        "reason": "",
        "reference": reference,
        "exact_match": matching.exact_match(completion, reference),
        "edit_similarity": round(matching.edit_similarity(completion, reference), 4),
    }


class _Writer:
    """Appends records to the JSONL file from several threads."""

    def __init__(self, path: Path, bar: tqdm) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._bar = bar
        self.passed = 0
        self.checked = 0

    def write(self, record: Record) -> None:
        with self._lock, self._path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            if record.get("passed") is not None:
                self.checked += 1
                self.passed += bool(record["passed"])
                self._bar.set_postfix(passed=f"{self.passed}/{self.checked}", refresh=False)
            self._bar.update(1)


def pending(tasks: Iterable[Task], samples: int, done: list[Record]) -> list[tuple[Task, int]]:
    """(task, sample index) pairs not yet recorded for the task's current prompt."""
    recorded = {(r["task_id"], r["sample"], r["prompt_sha256"]) for r in done}
    return [
        (task, index)
        for task in tasks
        for index in range(samples)
        if (task.task_id, index, prompt_sha256(task)) not in recorded
    ]


def end_last_line(path: Path) -> None:
    """Terminate a line cut short by an interruption, so that new records start afresh."""
    if path.is_file() and path.stat().st_size:
        with path.open("rb+") as handle:
            handle.seek(-1, 2)
            if handle.read(1) != b"\n":
                handle.write(b"\n")


def run_tasks(
    tasks: list[Task],
    backend: Backend,
    config: RunConfig,
    out_dir: Path,
    limits: Limits | None = None,
    show_progress: bool = True,
) -> list[Record]:
    """Complete and check every missing sample; returns the records of ``tasks``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    check_config(out_dir, config)
    path = out_dir / SAMPLES_FILE
    end_last_line(path)
    todo = pending(tasks, config.samples, read_records(path))
    limits = limits or Limits()
    failures: list[BaseException] = []
    with (
        tqdm(
            total=len(todo), desc=config.benchmark, unit="sample", disable=not show_progress
        ) as bar,
        ThreadPoolExecutor(max_workers=max(1, config.workers)) as pool,
    ):
        writer = _Writer(path, bar)

        def finish(record: Record, future: Future[ExecResult]) -> None:
            try:
                writer.write(with_execution(record, future.result()))
            except BaseException as error:  # recorded, re-raised on the main thread
                failures.append(error)

        for task, index in todo:
            if failures:
                break
            try:
                result = generate(task, backend, config)
            except BackendError as error:
                record = base_record(task, index, None)
                writer.write({**record, "passed": False, "status": "error", "reason": str(error)})
                continue
            record = base_record(task, index, result)
            if task.executable:
                future = pool.submit(run_program, task.program(result.text), task.language, limits)
                future.add_done_callback(lambda done, record=record: finish(record, done))
            else:
                writer.write(with_match(record, task.reference))
    if failures:
        raise failures[0]
    return latest_records(read_records(path), tasks, config.samples)


def latest_records(records: list[Record], tasks: list[Task], samples: int) -> list[Record]:
    """The last record of each (task, sample) for the tasks' current prompts, samples
    ``0 .. samples - 1`` only (a folder may hold more from an earlier, larger run)."""
    wanted = {task.task_id: prompt_sha256(task) for task in tasks}
    latest: dict[tuple[str, int], Record] = {}
    for record in records:
        if record["sample"] < samples and wanted.get(record["task_id"]) == record["prompt_sha256"]:
            latest[(record["task_id"], record["sample"])] = record
    return list(latest.values())


@dataclass(frozen=True)
class WallTime:
    """The wall time of every call into one output folder."""

    seconds: float
    """Sum over all calls, this one included."""
    calls: int
    resumed: bool
    """Whether the folder held samples before this call."""

    def summary(self) -> dict[str, Any]:
        return {
            "wall_seconds": round(self.seconds, 1),
            "calls": self.calls,
            "resumed": self.resumed,
        }

    def note(self) -> str | None:
        """What the summary says about a resumed run (None for a run done in one call)."""
        if not self.resumed:
            return None
        if self.calls == 1:
            return (
                "resumed run: the earlier calls' wall time was not recorded "
                "(wall_seconds is this call's)"
            )
        return f"resumed run: wall_seconds is the sum over {self.calls} calls into this folder"


def earlier_wall_seconds(out_dir: Path) -> list[float]:
    """The wall seconds of the earlier calls recorded in ``runs.jsonl``."""
    return [float(r["wall_seconds"]) for r in read_records(out_dir / RUNS_FILE)]


def record_call(out_dir: Path, seconds: float) -> None:
    """Append one call's wall time to ``runs.jsonl``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / RUNS_FILE
    end_last_line(path)
    entry = {"finished_at": time.strftime("%Y-%m-%d %H:%M:%S"), "wall_seconds": round(seconds, 3)}
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


def has_samples(out_dir: Path) -> bool:
    path = out_dir / SAMPLES_FILE
    return path.is_file() and path.stat().st_size > 0


def timed(out_dir: Path, work: Callable[[], T]) -> tuple[T, WallTime]:
    """``work()`` and the wall time of every call into ``out_dir``, this one included (an
    interrupted call's time is recorded too)."""
    resumed = has_samples(out_dir)
    earlier = earlier_wall_seconds(out_dir)
    started = time.perf_counter()
    try:
        result = work()
    finally:
        seconds = time.perf_counter() - started
        record_call(out_dir, seconds)
    return result, WallTime(sum(earlier) + seconds, len(earlier) + 1, resumed)


def timed_run(
    tasks: list[Task], backend: Backend, config: RunConfig, out_dir: Path, **kwargs: Any
) -> tuple[list[Record], WallTime]:
    """:func:`run_tasks` and the wall time of all calls into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    check_config(out_dir, config)  # a refused call records no time
    return timed(out_dir, lambda: run_tasks(tasks, backend, config, out_dir, **kwargs))
