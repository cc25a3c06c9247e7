"""The testgen evaluation: mutants, and the run with a scripted model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot_lsp.cli import build_parser
from copilot_lsp.eval import testgen
from copilot_lsp.eval.command import run_eval
from copilot_lsp.eval.testgen import mutants
from tests.fakes import ScriptedBackend


def test_mutants_are_single_deterministic_changes_after_the_first_line() -> None:
    code = 'def f(a, b):\n    """a < b"""\n    return a + b if a < 1 else b\n'
    found = list(mutants(code, first_line=3))
    assert [what for what, _ in found] == ["line 3: binop", "line 3: compare:0", "line 3: int"]
    assert found[0][1].endswith("return a - b if a < 1 else b")
    assert found == list(mutants(code, first_line=3))
    assert list(mutants("x = 1\n", first_line=2)) == []


@pytest.mark.parametrize(
    ("answer", "passes", "kills"),
    [
        # A right test: passes on the solution and catches the mutant.
        (
            "    assert has_close_elements([1.0, 2.0, 3.0], 0.5) is False\n"
            "    assert has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3) is True\n",
            True,
            True,
        ),
        # A wrong expectation fails on the solution.
        ("    assert has_close_elements([1.0, 2.0], 0.5) is True\n", False, None),
    ],
)
def test_testgen_run_scores_the_generated_test(
    tmp_path: Path, answer: str, passes: bool, kills: bool | None
) -> None:
    args = build_parser().parse_args(
        ["eval", "--benchmark", "testgen", "--tasks", "HumanEval/0", "--out", str(tmp_path)]
    )
    assert run_eval(args, ScriptedBackend(answer)) == 0
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["problems"] == 1 and summary["generated"] == 1.0
    assert summary["pass_on_canonical"] == (1.0 if passes else 0.0)
    (record,) = [json.loads(line) for line in (tmp_path / "samples.jsonl").open()]
    assert record["mutant"]  # HumanEval/0 has a mutant its own tests reject
    if kills is not None:
        assert record["fails_mutant"] is kills


def _no_model(*args: object) -> None:
    raise AssertionError("no model should be loaded")


def test_testgen_oracle_answers_with_the_tasks_own_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(testgen, "load_model", _no_model)
    args = build_parser().parse_args(
        [
            "eval",
            "--benchmark",
            "testgen",
            "--tasks",
            "HumanEval/0",
            "--oracle",
            "--out",
            str(tmp_path),
        ]
    )
    assert run_eval(args) == 0
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["model"] == "oracle" and summary["model_path"] == "oracle"
    assert summary["pass_on_canonical"] == 1.0 and summary["fail_on_mutant"] == 1.0


def test_testgen_loads_the_model_with_the_threads_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: list[tuple[str, int]] = []

    def load(model: str, threads: int = 0) -> ScriptedBackend:
        loaded.append((model, threads))
        return ScriptedBackend("    assert has_close_elements([1.0, 2.0], 0.5) is False\n")

    monkeypatch.setattr(testgen, "load_model", load)
    args = build_parser().parse_args(
        [
            "eval",
            "--benchmark",
            "testgen",
            "--tasks",
            "HumanEval/0",
            "--model",
            "tiny",
            "--threads",
            "1",
            "--out",
            str(tmp_path),
        ]
    )
    assert run_eval(args) == 0
    assert loaded == [("tiny", 1)]


ANSWER = "    assert has_close_elements([1.0, 2.0, 3.0], 0.5) is False\n"


def _testgen_args(out: Path, *extra: str) -> object:
    return build_parser().parse_args(["eval", "--benchmark", "testgen", "--out", str(out), *extra])


def test_testgen_rerun_resumes_and_keeps_earlier_results(tmp_path: Path) -> None:
    first = ScriptedBackend(ANSWER)
    assert run_eval(_testgen_args(tmp_path, "--tasks", "HumanEval/0"), first) == 0
    again = ScriptedBackend(ANSWER)
    assert run_eval(_testgen_args(tmp_path, "--tasks", "HumanEval/0"), again) == 0
    assert again.prompts == []  # nothing asked twice
    more = ScriptedBackend(ANSWER)
    assert run_eval(_testgen_args(tmp_path, "--tasks", "HumanEval/0,HumanEval/2"), more) == 0
    assert len(more.prompts) == 1  # only HumanEval/2
    ids = [json.loads(line)["task_id"] for line in (tmp_path / "samples.jsonl").open()]
    assert ids == ["HumanEval/0", "HumanEval/2"]
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["problems"] == 2 and summary["calls"] == 3 and summary["resumed"]


def test_testgen_refuses_a_folder_with_other_settings(tmp_path: Path, capsys) -> None:
    args = _testgen_args(tmp_path, "--tasks", "HumanEval/0")
    assert run_eval(args, ScriptedBackend(ANSWER)) == 0
    before = (tmp_path / "samples.jsonl").read_text(encoding="utf-8")
    other = _testgen_args(tmp_path, "--tasks", "HumanEval/0", "--model", "other.gguf")
    assert run_eval(other, ScriptedBackend(ANSWER)) == 1
    assert "holds a run with other settings" in capsys.readouterr().err
    assert (tmp_path / "samples.jsonl").read_text(encoding="utf-8") == before
