"""The typing replay behind `copilot-lsp bench latency`: bodies, keystrokes, scoring."""

from __future__ import annotations

import math
from pathlib import Path

from copilot_lsp.bench.latency import BASELINE, OPTIMIZED, RequestRecord, Session, compare
from copilot_lsp.bench.replay import (
    find_bodies,
    keystrokes,
    load_tasks,
    matched_chars,
    percentile,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_python_go_and_javascript_bodies_are_found() -> None:
    python = "def f(x):\n    y = x + 1\n    return y\n\n\ndef g():\n    pass\n"
    assert [python[a:b] for a, b in find_bodies(python, "python", 5, 100)] == [
        "    y = x + 1\n    return y",
        "    pass",
    ]
    go = "func Add(a int) int {\n\treturn a + 1\n}\n"
    assert [go[a:b] for a, b in find_bodies(go, "go", 5, 100)] == ["\treturn a + 1"]
    js = "class C {\n  add(x) {\n    return x;\n  }\n  if (a) {\n    b();\n  }\n}\n"
    assert [js[a:b] for a, b in find_bodies(js, "javascript", 5, 100)] == ["    return x;"]


def test_tasks_blank_the_body_and_start_after_the_indentation() -> None:
    tasks = load_tasks(EXAMPLES, 3, seed=1)
    assert tasks
    for task in tasks:
        original = Path(task.uri.removeprefix("file://")).read_text(encoding="utf-8")
        rebuilt = task.text[: task.cursor] + task.body + task.text[task.cursor :]
        assert rebuilt == original
        assert not task.body[:1].isspace()
    assert load_tasks(EXAMPLES, 3, seed=1) == tasks  # deterministic


def test_keystrokes_type_the_body_with_pauses() -> None:
    body = "total = 0\n    for value in values:\n        total += value\n    return total"
    keys = keystrokes(body, seed=3)
    assert "".join(key.text for key in keys) == body
    assert "\n        " in [key.text for key in keys]  # Enter brings the auto-indentation
    assert any(key.pause for key in keys)
    assert not keys[-1].pause and not keys[-1].stale_request
    assert all(0.04 <= key.delay <= 1.2 for key in keys)
    assert keystrokes(body, seed=3) == keys


def test_matched_chars_and_percentiles() -> None:
    assert matched_chars("return total", "return total\n") == 12
    assert matched_chars("return x", "return total") == 7
    assert matched_chars("", "abc") == 0
    values = [float(value) for value in range(1, 101)]
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.9) == 90
    assert percentile([1.0, math.inf], 0.9) == math.inf
    assert percentile([], 0.5) is None


def _session(mode: str, latencies: list[float], matched: int) -> Session:
    session = Session("fast", mode, 1.0, 500.0)
    for latency in latencies:
        shown = matched if math.isfinite(latency) else 0
        session.requests.append(
            RequestRecord("t", 0, latency, "x" * shown, shown, 1, {"modelCalls": 1})
        )
    return session


def test_summary_counts_timeouts_as_slowest_and_compares_with_the_baseline() -> None:
    ours = _session(OPTIMIZED, [100.0, 200.0, 300.0, math.inf], 2).summary()
    naive = _session(BASELINE, [900.0, 1000.0, math.inf, math.inf], 2).summary()
    assert ours["p50_ms"] == 200 and ours["p99_ms"] is None and ours["timed_out"] == 1
    assert ours["matched_chars"] == 6  # timed-out requests show nothing
    figures = compare([ours, naive])["fast"]
    assert figures["p50_speedup"] == 5.0
    assert figures["p90_speedup"] is None  # both timed out: no honest ratio


def test_without_model_means_answered_from_the_cache_or_by_typing_through() -> None:
    session = Session("fast", OPTIMIZED, 1.0, 500.0)
    session.requests += [
        RequestRecord("t", 0, 900.0, "x", 1, 0, {"answered": 1}),  # its call ends later
        RequestRecord("t", 1, 2.0, "x", 1, 0, {"typingThrough": 1}),
        RequestRecord("t", 2, 400.0, "x", 1, 1, {"typingThrough": 1, "modelCalls": 1}),
        RequestRecord("t", 3, 3.0, "x", 1, 0, {"fromCache": 1}),
    ]
    assert session.summary()["share_without_model"] == 0.75
