"""`copilot-lsp bench context` runs on a small copied workspace and prints its figures."""

from __future__ import annotations

import re

import pytest

from copilot_lsp.cli import main


def test_bench_context_prints_percentiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "context", "--files", "8", "--open", "3", "--requests", "30"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"workspace: 8 files \(\d+ indexed in \d+ ms\), 3 open; 30 requests", out)
    p50, p90, p99 = map(
        float,
        re.search(r"context\+prompt ms: p50 ([\d.]+)  p90 ([\d.]+)  p99 ([\d.]+)", out).groups(),
    )
    assert 0 < p50 <= p90 <= p99
    assert re.search(r"snippets per prompt: mean [1-9]", out)  # the open tabs give context
