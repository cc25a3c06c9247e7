"""The `eval` subcommand: options, outputs, errors, and the plots it writes."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from copilot_lsp.backends.base import Generation
from copilot_lsp.eval import plots
from copilot_lsp.eval.command import add_eval_parser, load_tasks, make_config, run_eval
from tests.eval.fakes import ReferenceBackend

PNG = b"\x89PNG\r\n\x1a\n"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="copilot-lsp")
    add_eval_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["eval", *argv])


def test_defaults() -> None:
    args = parse()
    assert args.command == "eval"
    assert (args.benchmark, args.model, args.samples, args.limit) == (None, "quality", 1, None)
    config = make_config(args, ["humaneval"])
    assert (config.temperature, config.top_p, config.max_new_tokens) == (0.0, 0.95, 256)
    sampled = make_config(parse("--samples", "20"), ["single-line"])
    assert (sampled.temperature, sampled.max_new_tokens) == (0.8, 64)


def test_task_selection_from_options() -> None:
    benchmarks, tasks = load_tasks(parse("--tasks", "HumanEval/1,HumanEval/2", "--tasks", "mbpp"))
    assert benchmarks == ["mbpp"]  # names in --tasks pick benchmarks; ids alone need --benchmark
    assert len(tasks) == 500
    benchmarks, tasks = load_tasks(parse("--benchmark", "humaneval", "--tasks", "HumanEval/1?"))
    assert len(tasks) == 10


def test_run_with_a_fake_backend_writes_every_output(tmp_path: Path, capsys) -> None:
    args = parse("--benchmark", "humaneval", "--limit", "3", "--out", str(tmp_path / "run"))
    _, tasks = load_tasks(args)
    assert run_eval(args, backend=ReferenceBackend(tasks)) == 0
    out = tmp_path / "run"
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json",
        "latency.png",
        "pass_at_k.png",
        "runs.jsonl",
        "samples.jsonl",
        "summary.json",
        "summary.md",
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["groups"]["humaneval"]["pass_at_k"] == {"pass@1": 1.0}
    assert summary["tasks"] == 3 and summary["temperature"] == 0.0
    assert "network_isolated" in summary["sandbox"]
    assert (out / "latency.png").read_bytes().startswith(PNG)
    printed = capsys.readouterr().out
    assert "| humaneval | 3 | 1 | 1.000 |" in printed


def test_oracle_mode_needs_no_model(tmp_path: Path) -> None:
    args = parse("--benchmark", "single-line", "--limit", "2", "--oracle", "--out", str(tmp_path))
    assert run_eval(args) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["model"] == "oracle"
    assert summary["groups"]["single-line"]["pass_at_k"]["pass@1"] == 1.0


@dataclass
class SlowBackend(ReferenceBackend):
    """The reference answers, each after a pause."""

    pause: float = 0.3

    def generate(self, *args: Any, **kwargs: Any) -> Generation:
        time.sleep(self.pause)
        return super().generate(*args, **kwargs)


def test_a_resumed_run_reports_the_wall_time_of_every_call(tmp_path: Path) -> None:
    args = parse("--benchmark", "humaneval", "--limit", "1", "--out", str(tmp_path))
    _, tasks = load_tasks(args)
    assert run_eval(args, backend=SlowBackend(tasks)) == 0
    first = json.loads((tmp_path / "summary.json").read_text())
    assert first["wall_seconds"] >= 0.3 and first["calls"] == 1 and not first["resumed"]
    assert "notes" not in first or not any("resumed" in n for n in first["notes"])
    again = SlowBackend(tasks)
    assert run_eval(args, backend=again) == 0
    assert again.calls == []
    second = json.loads((tmp_path / "summary.json").read_text())
    assert second["wall_seconds"] >= first["wall_seconds"]
    assert second["calls"] == 2 and second["resumed"]
    assert any("sum over 2 calls" in note for note in second["notes"])
    assert "- resumed: True" in (tmp_path / "summary.md").read_text()


def test_fewer_samples_into_the_same_folder_report_only_those(tmp_path: Path) -> None:
    base = ("--benchmark", "humaneval", "--limit", "1", "--oracle", "--out", str(tmp_path))
    assert run_eval(parse(*base, "--samples", "3")) == 0
    assert run_eval(parse(*base, "--samples", "2")) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["samples"] == 2
    assert summary["groups"]["humaneval"]["samples"] == 2
    assert "| humaneval | 1 | 2 |" in (tmp_path / "summary.md").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--benchmark", "nope"], "unknown benchmark"),
        (["--samples", "5", "--temperature", "0"], "needs --temperature > 0"),
        (["--benchmark", "humaneval", "--tasks", "NoSuch/*"], "no task matches"),
    ],
)
def test_errors_are_reported_not_raised(argv: list[str], message: str, capsys) -> None:
    assert run_eval(parse(*argv), backend=ReferenceBackend([])) == 1
    assert message in capsys.readouterr().err


def test_module_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "copilot_lsp.eval", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--benchmark" in result.stdout and "--no-crossfile-context" in result.stdout


def test_plots_skip_when_there_is_nothing_to_draw(tmp_path: Path) -> None:
    assert plots.pass_at_k_curve([], tmp_path / "a.png") is None
    assert plots.latency_histogram([], tmp_path / "b.png") is None
    records = [
        {"group": "g", "problem": f"p{i // 3}", "passed": i % 2 == 0, "latency_s": 0.1 * i}
        for i in range(9)
    ]
    assert plots.pass_at_k_curve(records, tmp_path / "a.png") == tmp_path / "a.png"
    assert (tmp_path / "a.png").read_bytes().startswith(PNG)
    assert plots.latency_histogram(records, tmp_path / "b.png") == tmp_path / "b.png"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--limit", "-1"], "--limit: expected a whole number of at least 1, got '-1'"),
        (["--limit", "0"], "--limit: expected a whole number of at least 1"),
        (["--limit", "two"], "--limit: expected a whole number of at least 1, got 'two'"),
        (["--samples", "0"], "--samples: expected a whole number of at least 1"),
        (["--temperature", "-1"], "--temperature: expected a number of at least 0"),
        (["--temperature", "nan"], "--temperature: expected a number of at least 0"),
        (["--max-new-tokens", "0"], "--max-new-tokens: expected a whole number of at least 1"),
        (["--workers", "0"], "--workers: expected a whole number of at least 1"),
        (["--threads", "-1"], "--threads: expected a whole number of at least 0"),
        (["--prompt-tokens", "0"], "--prompt-tokens: expected a whole number of at least 64"),
        (["--prompt-tokens", "63"], "--prompt-tokens: expected a whole number of at least 64"),
    ],
)
def test_out_of_range_numbers_are_usage_errors(argv: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse(*argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_prompt_token_minimum_is_the_runners(capsys) -> None:
    """63 is refused by the parser; 64, the prompt budget's minimum, makes a run config."""
    with pytest.raises(SystemExit):
        parse("--prompt-tokens", "63")
    args = parse("--prompt-tokens", "64", "--max-new-tokens", "1", "--temperature", "0")
    config = make_config(args, ["humaneval"])
    assert config.budget().prompt_tokens == 64 and config.max_new_tokens == 1
    assert parse("--limit", "1", "--samples", "1", "--threads", "0").limit == 1


def test_bad_limit_exits_without_a_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "copilot_lsp", "eval", "--benchmark", "humaneval", "--limit", "-1"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "--limit" in result.stderr
