"""Benchmark loaders: counts, editor-state conventions, selection."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from copilot_lsp.eval import datasets
from copilot_lsp.eval.datasets import (
    BENCHMARKS,
    load_benchmark,
    load_infilling,
    mbpp_prompt,
    select,
)
from copilot_lsp.eval.sandbox import toolchain_missing
from copilot_lsp.eval.task import DatasetError, benchdata_dir


@pytest.mark.parametrize(
    ("benchmark", "count"),
    [
        ("humaneval", 164),
        ("single-line", 1033),
        ("multi-line", 5815),
        ("random-span", 1640),
        ("random-span-light", 164),
        ("mbpp", 500),
        ("cceval", 50),
    ],
)
def test_counts(benchmark: str, count: int) -> None:
    tasks = load_benchmark(benchmark)
    assert len(tasks) == count
    assert len({t.task_id for t in tasks}) == count


def test_humaneval_generates_from_the_docstring() -> None:
    task = load_benchmark("humaneval")[0]
    assert task.task_id == "HumanEval/0"
    assert task.prefix.rstrip().endswith('"""')
    assert task.suffix == ""
    assert task.program("X").startswith(task.prefix + "X")
    assert task.program("X").rstrip().endswith(f"check({task.entry_point})")


def test_line_level_holes_are_an_empty_line_in_the_editor() -> None:
    for task in load_infilling("single-line", cursor="line-start")[:50]:
        assert task.prefix.endswith("\n")
        assert task.suffix.startswith("\n")
        assert "\n" not in task.reference


def test_indented_cursor_gives_the_first_lines_indentation() -> None:
    plain = load_infilling("multi-line", cursor="line-start")[:50]
    indented = load_infilling("multi-line")[:50]
    for before, after in zip(plain, indented, strict=True):
        indent = before.reference[: len(before.reference) - len(before.reference.lstrip())]
        assert after.prefix == before.prefix + indent
        assert after.reference == before.reference[len(indent) :]
        assert after.program(after.reference) == before.program(before.reference)
    with pytest.raises(DatasetError):
        load_infilling("single-line", cursor="middle")


def test_random_span_holes_are_taken_as_they_are() -> None:
    task = load_infilling("random-span")[4]
    assert not task.prefix.endswith("\n")
    assert task.program(task.reference).startswith(task.prefix + task.reference + task.suffix)


def test_mbpp_prompt_and_program() -> None:
    tasks = {t.task_id: t for t in load_benchmark("mbpp")}
    assert min(int(i.split("/")[1]) for i in tasks) == 11
    assert max(int(i.split("/")[1]) for i in tasks) == 510
    task = tasks["MBPP/11"]
    assert task.prefix.startswith('"""\nWrite a python function to remove first and last')
    assert "assert remove_Occ(" in task.prefix
    assert task.prefix.endswith('"""\ndef ')
    assert task.program("x").count("assert remove_Occ(") == 4  # the example and three tests


def test_mbpp_prompt_keeps_imports_before_def() -> None:
    prompt = mbpp_prompt("Do it.", "assert f(1) == 1", ["import math"])
    assert prompt == '"""\nDo it.\nassert f(1) == 1\n"""\nimport math\ndef '


@pytest.mark.parametrize("short", ["js", "cpp", "java"])
def test_humaneval_x(short: str) -> None:
    language = {"js": "javascript", "cpp": "cpp", "java": "java"}[short]
    if toolchain_missing(language):
        with pytest.raises(DatasetError):
            load_benchmark(f"humaneval-x-{short}")
        return
    tasks = load_benchmark(f"humaneval-x-{short}")
    assert 159 <= len(tasks) <= 164
    assert all(t.language == language and t.suffix == "" for t in tasks)
    assert tasks[0].program("BODY").index("BODY") > tasks[0].program("BODY").index(
        tasks[0].prefix.strip().splitlines()[-1]
    )


def test_every_benchmark_name_loads_or_explains() -> None:
    assert "crossfile" in BENCHMARKS
    with pytest.raises(DatasetError, match="unknown benchmark"):
        load_benchmark("nope")


def test_benchdata_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert benchdata_dir().name == "benchdata"
    folder = tmp_path / "humaneval_infilling"
    folder.mkdir()
    row = {
        "task_id": "SingleLineInfilling/HumanEval/0/L0",
        "entry_point": "f",
        "prompt": "def f():\n",
        "suffix": "",
        "canonical_solution": "    return 1\n",
        "test": "def check(c):\n    assert c() == 1\n",
    }
    with gzip.open(folder / "HumanEval-SingleLineInfilling.jsonl.gz", "wt") as handle:
        handle.write(json.dumps(row) + "\n")
    write_manifest(tmp_path, "humaneval_infilling/HumanEval-SingleLineInfilling.jsonl.gz")
    monkeypatch.setenv("COPILOT_LSP_BENCHDATA", str(tmp_path))
    assert benchdata_dir() == tmp_path
    assert [t.reference for t in load_infilling("single-line")] == ["return 1"]
    with pytest.raises(DatasetError, match="not found"):
        load_benchmark("mbpp")


def test_select_by_name_glob_limit_and_seed() -> None:
    tasks = load_benchmark("humaneval") + load_benchmark("random-span-light")
    assert len(select(tasks, ["humaneval"])) == 164
    assert [t.task_id for t in select(tasks, ["HumanEval/1?"])] == [
        f"HumanEval/{i}" for i in range(10, 20)
    ]
    picked = select(tasks, limit=5, seed=1)
    assert len(picked) == 10  # five per benchmark
    assert picked == select(tasks, limit=5, seed=1)
    assert picked != select(tasks, limit=5, seed=2)
    order = [tasks.index(t) for t in picked]
    assert order == sorted(order)


def test_select_keeps_variants_of_one_problem_together() -> None:
    tasks = load_benchmark("cceval")
    picked = select(tasks, limit=3, seed=0)
    assert len(picked) == 6
    assert {t.group for t in picked} == {"cceval/context", "cceval/no-context"}
    assert len({t.problem for t in picked}) == 3


def write_manifest(folder: Path, *names: str) -> None:
    """A ``MANIFEST.md`` listing ``names`` (paths under ``folder``) with their sha256."""
    rows = ["| file | bytes | records | sha256 |", "|---|---|---|---|"]
    for name in names:
        data = (folder / name).read_bytes()
        rows.append(f"| `{name}` | {len(data)} | 1 | `{hashlib.sha256(data).hexdigest()}` |")
    (folder / "MANIFEST.md").write_text("# data\n\n" + "\n".join(rows) + "\n")


def copy_benchdata(folder: Path, *names: str) -> None:
    """Copies of the shared files ``names`` and the shared ``MANIFEST.md`` in ``folder``."""
    shutil.copy(benchdata_dir() / "MANIFEST.md", folder / "MANIFEST.md")
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(benchdata_dir() / name, folder / name)


MBPP = "mbpp/mbpp.jsonl"
SINGLE_LINE = "humaneval_infilling/HumanEval-SingleLineInfilling.jsonl.gz"


def test_an_edited_data_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy_benchdata(tmp_path, MBPP)
    path = tmp_path / MBPP
    path.write_text(path.read_text().replace("assert ", "assert not ", 1))
    monkeypatch.setenv("COPILOT_LSP_BENCHDATA", str(tmp_path))
    with pytest.raises(DatasetError, match=r"mbpp\.jsonl does not match .*MANIFEST\.md"):
        load_benchmark("mbpp")


def test_a_file_the_manifest_does_not_list_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_benchdata(tmp_path, MBPP)
    write_manifest(tmp_path)  # lists nothing
    monkeypatch.setenv("COPILOT_LSP_BENCHDATA", str(tmp_path))
    with pytest.raises(DatasetError, match="not listed in"):
        load_benchmark("mbpp")
    (tmp_path / "MANIFEST.md").unlink()
    with pytest.raises(DatasetError, match=r"MANIFEST\.md not found"):
        load_benchmark("mbpp")


def test_an_edited_cceval_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "cceval/granite-completebench_sample_python_inputs.jsonl"
    copy_benchdata(tmp_path, name)
    with (tmp_path / name).open("a") as handle:
        handle.write("\n")
    monkeypatch.setenv("COPILOT_LSP_BENCHDATA", str(tmp_path))
    with pytest.raises(DatasetError, match="does not match"):
        load_benchmark("cceval")


def test_a_truncated_gzip_file_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_benchdata(tmp_path, SINGLE_LINE)
    path = tmp_path / SINGLE_LINE
    path.write_bytes(path.read_bytes()[:30000])
    write_manifest(tmp_path, SINGLE_LINE)  # listed as it is: the reading must fail cleanly
    monkeypatch.setenv("COPILOT_LSP_BENCHDATA", str(tmp_path))
    with pytest.raises(DatasetError, match=r"SingleLineInfilling\.jsonl\.gz: cannot be read"):
        load_benchmark("single-line")


@pytest.mark.parametrize(
    ("name", "benchmark", "line"),
    [
        (MBPP, "mbpp", 3),
        # crossfile.py reads this file itself, after data_file checked its hash.
        ("cceval/granite-completebench_sample_python_inputs.jsonl", "cceval", 2),
    ],
)
def test_a_broken_json_line_names_the_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, benchmark: str, line: int
) -> None:
    copy_benchdata(tmp_path, name)
    path = tmp_path / name
    lines = path.read_text().splitlines(keepends=True)
    lines[line - 1] = lines[line - 1][:40] + "\n"
    path.write_text("".join(lines))
    write_manifest(tmp_path, name)
    monkeypatch.setenv("COPILOT_LSP_BENCHDATA", str(tmp_path))
    expected = rf"{re.escape(Path(name).name)}, line {line}: not valid JSON"
    with pytest.raises(DatasetError, match=expected):
        load_benchmark(benchmark)


def test_each_file_is_hashed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy_benchdata(tmp_path, MBPP)
    monkeypatch.setenv("COPILOT_LSP_BENCHDATA", str(tmp_path))
    hashed: list[Path] = []
    original = datasets._sha256
    monkeypatch.setattr(datasets, "_sha256", lambda path: hashed.append(path) or original(path))
    assert len(load_benchmark("mbpp")) == len(load_benchmark("mbpp")) == 500
    assert hashed == [tmp_path / MBPP]
