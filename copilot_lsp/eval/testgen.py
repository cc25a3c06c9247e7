"""``copilot-lsp eval --benchmark testgen``: how good are the generated unit tests?

For each HumanEval problem, the canonical solution is the code under test. The test
generator (the same ``features.test_generation.generate_tests`` the editor command runs)
writes a pytest function for the entry point; the sandbox then runs it

- against the canonical solution: a good test **passes**;
- against a mutant, a small deterministic change to the solution (``<`` -> ``<=``,
  ``+`` -> ``-``, ``1`` -> ``2``, ``and`` -> ``or``, ...) that HumanEval's own tests
  reject: a good test **fails** (it "kills" the mutant).

Reported: the share of tests that pass on the canonical solution, the share that fail on
the mutant, and the share that do both (a correct test that also catches the bug).

With ``--oracle`` no model runs: each problem's "generated" test is HumanEval's own tests
for it, put through the same post-processing, which gives the ceiling the pipeline leaves.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from copilot_lsp.backends.base import (
    Backend,
    BackendError,
    CancelToken,
    Generation,
    GenerationOptions,
    StopCheck,
)
from copilot_lsp.eval import sandbox
from copilot_lsp.eval.datasets import load_humaneval, select
from copilot_lsp.eval.model import load_model, model_label
from copilot_lsp.eval.runner import (
    SAMPLES_FILE,
    EvalError,
    RunConfig,
    check_config,
    end_last_line,
    read_records,
    timed,
)
from copilot_lsp.eval.task import DatasetError, Task
from copilot_lsp.features.test_generation import TestGenerationError, generate_tests
from copilot_lsp.models import ModelError, concrete_model

BENCHMARK = "testgen"
MODULE_NAME = "solution.py"
MAX_MUTANTS_TRIED = 8

_COMPARE_SWAPS: dict[type, type] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_BINOP_SWAPS: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Add,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
}


def requested(args: argparse.Namespace) -> bool:
    names = [n.strip() for n in (args.benchmark or "").split(",")]
    names += [p.strip() for item in args.tasks for p in item.split(",")]
    return BENCHMARK in names


def _sites(tree: ast.AST, first_line: int) -> list[tuple[int, int, str, ast.AST]]:
    """Mutable places at or after ``first_line``, in source order: (line, col, what, node)."""
    found: list[tuple[int, int, str, ast.AST]] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if line < first_line:
            continue
        col = getattr(node, "col_offset", 0)
        if isinstance(node, ast.Compare):
            for index, op in enumerate(node.ops):
                if type(op) in _COMPARE_SWAPS:
                    found.append((line, col, f"compare:{index}", node))
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS:
            found.append((line, col, "binop", node))
        elif isinstance(node, ast.BoolOp):
            found.append((line, col, "boolop", node))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int)
            and not isinstance(node.value, bool)
        ):
            found.append((line, col, "int", node))
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            found.append((line, col, "bool", node))
    return sorted(found, key=lambda site: (site[0], site[1], site[2]))


def _apply(node: ast.AST, what: str) -> None:
    if what.startswith("compare:"):
        index = int(what.split(":")[1])
        compare = node  # type: ignore[assignment]
        compare.ops[index] = _COMPARE_SWAPS[type(compare.ops[index])]()  # type: ignore[attr-defined]
    elif what == "binop":
        node.op = _BINOP_SWAPS[type(node.op)]()  # type: ignore[attr-defined]
    elif what == "boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()  # type: ignore[attr-defined]
    elif what == "int":
        node.value = node.value + 1  # type: ignore[attr-defined]
    elif what == "bool":
        node.value = not node.value  # type: ignore[attr-defined]


def mutants(code: str, first_line: int = 1) -> Iterator[tuple[str, str]]:
    """Single-change variants of ``code`` (changes only at or after ``first_line``), in a
    fixed order: ``(description, mutated code)``."""
    count = len(_sites(ast.parse(code), first_line))
    for index in range(count):
        tree = ast.parse(code)
        line, _col, what, node = _sites(tree, first_line)[index]
        _apply(node, what)
        mutated = ast.unparse(tree)
        if mutated != ast.unparse(ast.parse(code)):
            yield f"line {line}: {what}", mutated


def oracle_test(task: Task) -> str:
    """The test body the oracle writes: HumanEval's own tests, run on the entry point."""
    return textwrap.indent(task.program_tail.strip("\n") + "\n", "    ")


@dataclass
class TestgenOracle:
    """A backend that answers the test generator with one task's own tests."""

    task: Task
    name: str = "oracle"
    model_path: str = "oracle"

    def generate(
        self,
        prompt: str,
        options: GenerationOptions,
        cancel: CancelToken,
        stop_check: StopCheck | None = None,
    ) -> Generation:
        text = oracle_test(self.task)
        return Generation(text, "stop_token", len(prompt) // 4, 0, len(text) // 4, 0.0, 0.0)

    def close(self) -> None:
        pass


@dataclass
class TestgenRecord:
    task_id: str
    generated: bool
    test: str
    error: str = ""
    passes_canonical: bool | None = None
    canonical_reason: str = ""
    mutant: str = ""
    """What the mutation changed ("" when no mutant failed HumanEval's own tests)."""
    fails_mutant: bool | None = None
    seconds: float = 0.0


def _test_program(solution: str, test_file: str, entry_point: str, test_name: str) -> str:
    body = test_file.replace(f"from solution import {entry_point}\n", "")
    return f"{solution}\n\n{body}\n\n{test_name}()\n"


def pick_mutant(task: Task, limits: sandbox.Limits) -> tuple[str, str] | None:
    """The first mutant (in the fixed order) that HumanEval's own tests reject."""
    solution = task.prefix + task.reference
    first_line = task.prefix.count("\n") + 1
    for tried, (what, mutated) in enumerate(mutants(solution, first_line)):
        if tried >= MAX_MUTANTS_TRIED:
            return None
        outcome = sandbox.run_program(mutated + task.program_tail, "python", limits)
        if not outcome.passed:
            return what, mutated
    return None


def evaluate(task: Task, backend: Backend, max_new_tokens: int) -> TestgenRecord:
    limits = sandbox.Limits(timeout_s=10.0)
    solution = task.prefix + task.reference
    started = time.perf_counter()
    line = next(
        (
            i
            for i, text in enumerate(solution.split("\n"))
            if text.startswith(f"def {task.entry_point}(")
        ),
        None,
    )
    if line is None:
        return TestgenRecord(task.task_id, False, "", "entry point not found")
    try:
        result = generate_tests(
            backend,
            Path("/nonexistent/humaneval") / MODULE_NAME,
            solution,
            line,
            0,
            CancelToken(),
            None,
            read=lambda path: None,
            max_new_tokens=max_new_tokens,
        )
    except TestGenerationError as error:
        return TestgenRecord(
            task.task_id, False, "", str(error), seconds=time.perf_counter() - started
        )
    seconds = time.perf_counter() - started
    record = TestgenRecord(task.task_id, True, result.text, seconds=seconds)
    canonical = sandbox.run_program(
        _test_program(solution, result.text, task.entry_point, result.test_name), "python", limits
    )
    record.passes_canonical = canonical.passed
    record.canonical_reason = "" if canonical.passed else canonical.reason
    mutant = pick_mutant(task, limits)
    if mutant is not None:
        record.mutant = mutant[0]
        on_mutant = sandbox.run_program(
            _test_program(mutant[1], result.text, task.entry_point, result.test_name),
            "python",
            limits,
        )
        record.fails_mutant = not on_mutant.passed
    return record


def _share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def summarize(records: list[TestgenRecord], extra: dict[str, Any]) -> dict[str, Any]:
    generated = [r for r in records if r.generated]
    with_mutant = [r for r in generated if r.fails_mutant is not None]
    return {
        **extra,
        "problems": len(records),
        "generated": _share([r.generated for r in records]),
        "pass_on_canonical": _share([bool(r.passes_canonical) for r in records]),
        "problems_with_mutant": len(with_mutant),
        "fail_on_mutant": _share([bool(r.fails_mutant) for r in with_mutant]),
        "pass_canonical_and_fail_mutant": _share(
            [bool(r.passes_canonical and r.fails_mutant) for r in with_mutant]
        ),
        "mean_generation_seconds": round(
            sum(r.seconds for r in generated) / max(len(generated), 1), 2
        ),
    }


def markdown(summary: dict[str, Any]) -> str:
    rows = [
        ("problems", summary["problems"]),
        ("test generated", summary["generated"]),
        ("passes on the canonical solution", summary["pass_on_canonical"]),
        ("problems with a mutant HumanEval rejects", summary["problems_with_mutant"]),
        ("fails on the mutant", summary["fail_on_mutant"]),
        ("passes canonical and fails mutant", summary["pass_canonical_and_fail_mutant"]),
        ("mean generation seconds", summary["mean_generation_seconds"]),
    ]
    lines = [f"# testgen ({summary['model']})", "", "| measure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    lines += ["", f"- wall_seconds: {summary.get('wall_seconds')}"]
    lines += [f"- note: {note}" for note in summary.get("notes", [])]
    return "\n".join(lines) + "\n"


def _recorded(path: Path, tasks: list[Task]) -> dict[str, TestgenRecord]:
    """The records already in ``samples.jsonl`` for ``tasks`` (the last one per task)."""
    wanted = {task.task_id for task in tasks}
    names = {f.name for f in fields(TestgenRecord)}
    done: dict[str, TestgenRecord] = {}
    for row in read_records(path):
        if row.get("task_id") in wanted:
            done[row["task_id"]] = TestgenRecord(**{k: v for k, v in row.items() if k in names})
    return done


def _evaluate_pending(
    tasks: list[Task], engine: Backend | None, max_new_tokens: int, path: Path
) -> list[TestgenRecord]:
    """Every task's record: those in ``path`` are kept, the others evaluated and appended."""
    end_last_line(path)
    done = _recorded(path, tasks)
    records: list[TestgenRecord] = []
    with path.open("a", encoding="utf-8") as samples:
        for index, task in enumerate(tasks, 1):
            if task.task_id in done:
                records.append(done[task.task_id])
                continue
            answers = engine if engine is not None else TestgenOracle(task)
            record = evaluate(task, answers, max_new_tokens)
            records.append(record)
            samples.write(json.dumps(asdict(record)) + "\n")
            samples.flush()
            print(
                f"[{index}/{len(tasks)}] {task.task_id}: canonical "
                f"{record.passes_canonical}, mutant killed {record.fails_mutant}",
                file=sys.stderr,
            )
    return records


def run(args: argparse.Namespace, backend: Backend | None = None) -> int:
    """Run the testgen evaluation with the eval command's options.

    A rerun into the same folder resumes: problems already in ``samples.jsonl`` are not
    asked again; a folder that holds a run with another model or token limit is refused.
    """

    try:
        patterns = [
            p.strip()
            for item in args.tasks
            for p in item.split(",")
            if p.strip() and p.strip() != BENCHMARK
        ]
        tasks = select(load_humaneval(), patterns, args.limit, args.seed)
        if not tasks:
            raise DatasetError("no task matches --tasks/--limit")
        model = "oracle" if args.oracle else concrete_model(args.model, args.threads)
        out_dir = args.out or Path("out") / "eval" / f"{BENCHMARK}-{model_label(model)}"
        out_dir.mkdir(parents=True, exist_ok=True)
        max_new_tokens = args.max_new_tokens if args.max_new_tokens is not None else 320
        config = RunConfig(
            benchmark=BENCHMARK, model=model, max_new_tokens=max_new_tokens, seed=args.seed
        )
        check_config(out_dir, config)
        engine = backend
        if engine is None and not args.oracle:
            engine = load_model(model, args.threads)
        try:
            records, wall = timed(
                out_dir,
                lambda: _evaluate_pending(tasks, engine, max_new_tokens, out_dir / SAMPLES_FILE),
            )
        finally:
            if backend is None and engine is not None:
                engine.close()
        summary = summarize(
            records,
            {
                "benchmark": BENCHMARK,
                "model": model,
                "model_path": "oracle" if engine is None else getattr(engine, "model_path", None),
                "seed": args.seed,
                "max_new_tokens": max_new_tokens,
                **wall.summary(),
            },
        )
        note = wall.note()
        if note:
            summary["notes"] = [note]
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
        (out_dir / "summary.md").write_text(markdown(summary), encoding="utf-8")
    except (DatasetError, ModelError, BackendError, EvalError, OSError) as error:
        print(f"copilot-lsp eval: {error}", file=sys.stderr)
        return 1
    print(markdown(summary), end="")
    print(f"\nsamples: {out_dir / SAMPLES_FILE}\nsummary: {out_dir / 'summary.md'}")
    return 0
