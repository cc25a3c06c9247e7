"""`copilot-lsp stats` over a usage log."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from copilot_lsp.cli import main
from copilot_lsp.stats import percentile, summarize
from copilot_lsp.usage import UsageLog, read_events


def write_log(path: Path) -> None:
    usage = UsageLog(path)
    for source, latency in [("model", 400), ("typing", 2), ("cache", 3), ("model", 600)]:
        usage.record("completion", source=source, latency_ms=latency)
    usage.record("completion", source="superseded", latency_ms=50)
    for suggestion in ("a", "b", "a"):  # "a" shown twice (typed through): one suggestion
        usage.record("shown", id=suggestion, source="model", chars=3, lines=1, text="xyz")
    usage.record("accepted", id="a")
    usage.record("rejected", id="b", reason="replaced")


def test_summary_figures(tmp_path: Path) -> None:
    path = tmp_path / "usage.jsonl"
    write_log(path)
    summary = summarize(read_events(path))
    assert summary["requests"] == 5 and summary["answered"] == 4
    assert summary["acceptance_rate"] == 0.5
    assert summary["without_model_call"] == 0.5
    assert summary["cache_hit_rate"] == pytest.approx(1 / 3)
    assert summary["latency_ms"]["model"]["p50"] == 400
    assert summary["latency_ms"]["all"]["p90"] == 600


def test_candidates_of_one_answer_are_one_offer(tmp_path: Path) -> None:
    """Three ranked candidates; the user cycles to the second and accepts it: one offer."""
    path = tmp_path / "usage.jsonl"
    usage = UsageLog(path)
    for rank, suggestion in enumerate(("c1", "c2", "c3")):
        usage.record("shown", id=suggestion, offer="c1", rank=rank, source="model")
    usage.record("shown", id="d1", offer="d1", rank=0, source="model")
    usage.record("accepted", id="c2")
    summary = summarize(read_events(path))
    assert summary["suggestions_shown"] == 2 and summary["accepted"] == 1
    assert summary["acceptance_rate"] == 0.5


def test_text_is_not_logged_by_default(tmp_path: Path) -> None:
    path = tmp_path / "usage.jsonl"
    write_log(path)
    assert "xyz" not in path.read_text()


def test_percentile_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5, 1, 3], 0.5) == 3
    assert percentile(list(range(1, 101)), 0.9) == 90


def test_stats_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "usage.jsonl"
    write_log(path)
    assert main(["stats", "--log", str(path)]) == 0
    out = capsys.readouterr().out
    assert "acceptance rate: 50.0%" in out and "answered without a model call: 50.0%" in out
    assert main(["stats", "--log", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accepted"] == 1


def test_stats_without_a_log_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "--log", str(tmp_path / "none.jsonl")]) == 1
    assert "no usage log" in capsys.readouterr().err


def test_damaged_lines_and_fields_are_skipped(tmp_path: Path) -> None:
    """Bytes that are not UTF-8, and events whose fields have the wrong types, count as
    lines that do not parse; the rest of the log still gives its figures."""
    path = tmp_path / "usage.jsonl"
    good = '{"event":"completion","source":"model","latency_ms":5}\n'
    damaged = [
        b"\xff\n",
        b'{"event":"completion","source":"model","latency_ms":"fast"}\n',
        b'{"event":"completion","source":"model","latency_ms":null}\n',
        b'{"event":"completion","source":"model","latency_ms":true}\n',
        b'{"event":"completion","source":"model","latency_ms":1e999}\n',
        b'{"event":"completion","source":["model"]}\n',
        b'{"event":"shown","id":["x"]}\n',
        b'{"event":"shown","id":"y","offer":{"o":1}}\n',
        b'{"event":"accepted","id":{"x":1}}\n',
        b'{"event":7}\n',
        b"[" * 100_000 + b"\n",
    ]
    path.write_bytes(good.encode() + b"".join(damaged) + good.encode())
    assert len(read_events(path)) == 2
    summary = summarize(read_events(path))
    assert summary["requests"] == 2 and summary["suggestions_shown"] == 0
    assert summary["latency_ms"]["all"]["p50"] == 5


def test_stats_command_on_a_damaged_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "usage.jsonl"
    write_log(path)
    with path.open("ab") as handle:
        handle.write(b'{"event":"shown","id":["x"]}\n{"event":"completion","latency_ms":null}\n')
    assert main(["stats", "--log", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["requests"] == 5


@pytest.mark.parametrize("form", [[], ["--json"]])
def test_stats_stops_quietly_when_the_reader_goes(tmp_path: Path, form: list[str]) -> None:
    """`copilot-lsp stats | head -1`: no BrokenPipeError traceback, the SIGPIPE status."""
    path = tmp_path / "usage.jsonl"
    write_log(path)
    process = subprocess.Popen(
        [sys.executable, "-m", "copilot_lsp", "stats", "--log", str(path), *form],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the command writes
    error = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141  # 128 + SIGPIPE
    assert error == ""
