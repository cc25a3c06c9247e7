"""The runner with a deterministic backend: records, resumption, pass@k, ranking, reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot_lsp.eval import report
from copilot_lsp.eval.datasets import load_benchmark, select
from copilot_lsp.eval.passk import pass_at_k
from copilot_lsp.eval.runner import (
    SAMPLES_FILE,
    EvalError,
    RunConfig,
    prompt_sha256,
    read_records,
    run_tasks,
)
from copilot_lsp.eval.task import Task
from tests.eval.fakes import ReferenceBackend


@pytest.fixture(scope="module")
def tasks() -> list[Task]:
    return select(load_benchmark("humaneval"), limit=4, seed=3) + select(
        load_benchmark("single-line"), limit=4, seed=3
    )


def config(**overrides: object) -> RunConfig:
    return RunConfig(benchmark="test", model="reference", **overrides)  # type: ignore[arg-type]


def run(tasks: list[Task], backend: ReferenceBackend, out: Path, **overrides: object):
    return run_tasks(tasks, backend, config(**overrides), out, show_progress=False)


def test_reference_completions_pass_and_records_are_complete(
    tasks: list[Task], tmp_path: Path
) -> None:
    backend = ReferenceBackend(tasks)
    records = run(tasks, backend, tmp_path)
    assert len(records) == len(tasks)
    assert all(r["passed"] and r["status"] == "passed" for r in records)
    record = records[0]
    for field in (
        "task_id",
        "prompt_sha256",
        "completion",
        "passed",
        "reason",
        "latency_s",
        "prompt_tokens",
        "completion_tokens",
        "mean_logprob",
    ):
        assert field in record
    assert record["prompt_tokens"] > 0 and record["latency_s"] >= 0
    task = next(t for t in tasks if t.task_id == record["task_id"])
    assert record["prompt_sha256"] == prompt_sha256(task)
    lines = (tmp_path / SAMPLES_FILE).read_text().splitlines()
    assert len(lines) == len(tasks) and json.loads(lines[0])["task_id"]


def test_wrong_completions_fail_with_a_reason(tasks: list[Task], tmp_path: Path) -> None:
    backend = ReferenceBackend(tasks, answer_with=lambda task, _: "    return None")
    records = run(tasks[:2], backend, tmp_path)
    assert not any(r["passed"] for r in records)
    assert all(r["status"] == "failed" and r["reason"] for r in records)


def test_rerun_resumes_where_it_stopped(tasks: list[Task], tmp_path: Path) -> None:
    first = ReferenceBackend(tasks)
    run(tasks, first, tmp_path)
    again = ReferenceBackend(tasks)
    run(tasks, again, tmp_path)
    assert again.calls == []
    path = tmp_path / SAMPLES_FILE
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:3]) + "\n" + lines[3][:20])  # interrupted mid-line
    resumed = ReferenceBackend(tasks)
    records = run(tasks, resumed, tmp_path)
    assert len(resumed.calls) == len(tasks) - 3
    assert len(records) == len(tasks) and all(r["passed"] for r in records)


def test_changed_settings_need_another_folder(tasks: list[Task], tmp_path: Path) -> None:
    run(tasks[:1], ReferenceBackend(tasks), tmp_path)
    with pytest.raises(EvalError, match="other settings"):
        run(tasks[:1], ReferenceBackend(tasks), tmp_path, max_new_tokens=7)


def test_fewer_samples_report_only_those_and_more_resume(tasks: list[Task], tmp_path: Path) -> None:
    two = tasks[:2]
    run(two, ReferenceBackend(two), tmp_path, samples=3, temperature=0.8)
    fewer = ReferenceBackend(two)
    records = run(two, fewer, tmp_path, samples=2, temperature=0.8)
    assert fewer.calls == []
    assert sorted((r["task_id"], r["sample"]) for r in records) == sorted(
        (t.task_id, i) for t in two for i in range(2)
    )
    summary = report.summarize(records, {"samples": 2})
    assert all(g["samples_per_problem"] == 2 for g in summary["groups"].values())
    more = ReferenceBackend(two)
    records = run(two, more, tmp_path, samples=4, temperature=0.8)
    assert sorted(more.calls) == sorted(t.task_id for t in two)  # only sample 3 is new
    assert len(records) == 8


def test_backend_errors_are_recorded_and_the_run_goes_on(tasks: list[Task], tmp_path: Path) -> None:
    backend = ReferenceBackend(tasks, fail_on=frozenset({tasks[0].task_id}))
    records = {r["task_id"]: r for r in run(tasks, backend, tmp_path)}
    assert records[tasks[0].task_id]["status"] == "error"
    assert records[tasks[0].task_id]["reason"] == "scripted failure"
    assert all(records[t.task_id]["passed"] for t in tasks[1:])


def test_sampled_pass_at_k_and_ranked_pass_at_1(tasks: list[Task], tmp_path: Path) -> None:
    humaneval = [t for t in tasks if t.benchmark == "humaneval"]
    # Attempt i of problem j is right when i < j + 1: problem j has j + 1 right of 10.
    order = {t.task_id: j for j, t in enumerate(humaneval)}

    def answer(task: Task, attempt: int) -> str:
        return task.reference if attempt <= order[task.task_id] else "    return None"

    def logprob(task: Task, attempt: int) -> float:
        return -0.1 if attempt == 0 else -1.0  # the best-ranked sample is the right one

    backend = ReferenceBackend(humaneval, answer_with=answer, logprob=logprob)
    records = run(humaneval, backend, tmp_path, samples=10, temperature=0.8)
    assert len(records) == 40
    summary = report.summarize(records)
    group = summary["groups"]["humaneval"]
    expected_1 = sum(pass_at_k(10, j + 1, 1) for j in range(4)) / 4
    expected_10 = sum(pass_at_k(10, j + 1, 10) for j in range(4)) / 4
    assert group["pass_at_k"]["pass@1"] == pytest.approx(expected_1, abs=1e-4)
    assert group["pass_at_k"]["pass@10"] == pytest.approx(expected_10, abs=1e-4)
    assert "pass@100" not in group["pass_at_k"]
    assert group["ranked_pass@1"] == 1.0
    assert "notes" not in summary


def test_summary_says_when_ranking_is_unavailable(tasks: list[Task], tmp_path: Path) -> None:
    records = run(tasks, ReferenceBackend(tasks), tmp_path)
    summary = report.summarize(records, {"model": "reference"})
    assert set(summary["groups"]) == {"humaneval", "single-line"}
    assert summary["groups"]["humaneval"]["pass_at_k"] == {"pass@1": 1.0}
    assert summary["groups"]["humaneval"]["ranked_pass@1"] is None
    assert summary["notes"] == [report.NO_RANKING]
    table = report.markdown(summary)
    assert "| group | problems | n | pass@1 | ranked pass@1 | EM | ES | p50 s | p90 s |" in table
    assert "| humaneval | 4 | 1 | 1.000 |" in table
    assert "- model: reference" in table and "mean_logprob" in table


def test_match_scored_tasks(tmp_path: Path) -> None:
    cceval = select(load_benchmark("cceval"), limit=4, seed=0)
    backend = ReferenceBackend(cceval)
    records = run(cceval, backend, tmp_path)
    assert all(r["exact_match"] and r["edit_similarity"] == 1.0 for r in records)
    assert all(r["passed"] is None and r["status"] == "scored" for r in records)
    summary = report.summarize(records)
    assert set(summary["groups"]) == {"cceval/context", "cceval/no-context"}
    assert summary["groups"]["cceval/context"]["exact_match"] == 1.0
    assert "notes" not in summary


def test_read_records_skips_a_truncated_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n{"b"')
    assert read_records(path) == [{"a": 1}]
    assert read_records(tmp_path / "missing.jsonl") == []


def test_the_typing_layout_gives_the_suffix_a_smaller_share_of_the_same_budget() -> None:
    invoked, typing = (
        config(prompt_tokens=512).budget(),
        config(prompt_tokens=512, layout="typing").budget(),
    )
    assert invoked.prompt_tokens == typing.prompt_tokens == 512
    assert typing.suffix_share < invoked.suffix_share and typing.anchor_lines > 0
    assert config(layout="typing").generation_settings()["layout"] == "typing"
