"""Snippet selection: providers, ranking, dedup, local-window drop, budget, stable order."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from copilot_lsp.context.engine import ContextEngine
from copilot_lsp.context.recent import RecentEdits, changed_lines
from copilot_lsp.context.similar import SimilarWindows, jaccard, tokens
from copilot_lsp.context.snippets import ContextQuery, Snippet


@dataclass
class FixedProvider:
    """A provider that proposes given snippets (what a plug-in provider looks like)."""

    found: list[Snippet]
    name: str = "fixed"
    weight: float = 1.0
    queries: list[ContextQuery] | None = None

    def snippets(self, query: ContextQuery) -> Iterable[Snippet]:
        if self.queries is not None:
            self.queries.append(query)
        return list(self.found)


def snippet(path: str, text: str, score: float) -> Snippet:
    return Snippet(path, text, "fixed", score)


def select(engine: ContextEngine, window: str = "", budget: int = 1000) -> list[Snippet]:
    return engine.snippets("file:///w/cur.py", "x = ", "\n", "python", window, budget, len)


def test_a_plugged_in_provider_sees_the_query_and_is_ranked() -> None:
    queries: list[ContextQuery] = []
    provider = FixedProvider(
        [snippet("schema.sql", "CREATE TABLE t (id INT);", 0.9)], queries=queries
    )
    engine = ContextEngine(providers=[])
    engine.add_provider(provider)
    engine.open("file:///w/cur.py", "x = \n", "python")
    assert [s.text for s in select(engine)] == ["CREATE TABLE t (id INT);"]
    assert queries[0].prefix == "x = " and queries[0].language == "python"
    assert queries[0].parsed is not None and queries[0].parsed.tree is not None


def test_budget_duplicates_and_local_window() -> None:
    engine = ContextEngine(
        providers=[
            FixedProvider(
                [
                    snippet("a.py", "def a(): ...", 0.9),
                    snippet("a.py", "def a(): ...", 0.8),  # exact duplicate
                    snippet("b.py", "def b(): ...", 0.7),
                    snippet("c.py", "def visible(): ...", 0.95),  # already in the window
                    snippet("d.py", "x" * 500, 0.6),  # does not fit
                    snippet("cur.py", "own text", 1.0),  # the current file itself
                ]
            )
        ]
    )
    chosen = select(engine, window="y = 1\ndef visible(): ...\n", budget=60)
    assert sorted(s.path for s in chosen) == ["a.py", "b.py"]
    # Most relevant last, nearest the cursor.
    assert [s.path for s in chosen] == ["b.py", "a.py"]


def test_order_is_stable_between_requests_unless_relevance_changes() -> None:
    provider = FixedProvider([snippet("a.py", "A = 1", 0.9), snippet("b.py", "B = 2", 0.5)])
    engine = ContextEngine(providers=[provider])
    first = [s.path for s in select(engine)]
    assert first == ["b.py", "a.py"]
    # Scores drift a little while typing: same block, same order.
    provider.found = [snippet("a.py", "A = 1", 0.45), snippet("b.py", "B = 2", 0.5)]
    assert [s.path for s in select(engine)] == first
    # A new, clearly relevant snippet goes after the kept ones.
    provider.found.append(snippet("c.py", "C = 3", 1.0))
    assert [s.path for s in select(engine)] == ["b.py", "a.py", "c.py"]
    # With room for two only, the weakest one leaves; the others keep their order.
    assert [s.path for s in select(engine, budget=30)] == ["a.py", "c.py"] or [
        s.path for s in select(engine, budget=30)
    ] == ["b.py", "c.py"]


def test_a_failing_provider_does_not_break_completion() -> None:
    class Broken:
        name, weight = "broken", 1.0

        def snippets(self, query: ContextQuery) -> Iterable[Snippet]:
            raise RuntimeError("boom")

    engine = ContextEngine(providers=[Broken(), FixedProvider([snippet("a.py", "A = 1", 1)])])
    assert [s.path for s in select(engine)] == ["a.py"]


def test_similar_windows_from_other_open_documents() -> None:
    engine = ContextEngine(providers=[SimilarWindows(window_lines=4, step=2)])
    other = "\n".join(
        ["import os", "", "def unrelated():", "    pass", "", "def load_config(path):",
         "    with open(path) as handle:", "        return parse_config(handle.read())", ""]
    )  # fmt: skip
    engine.open("file:///w/other.py", other, "python")
    engine.open("file:///w/notes.md", "load_config parse_config handle path", "markdown")
    prefix = "def load_settings(path):\n    with open(path) as handle:\n        return "
    chosen = engine.snippets("file:///w/cur.py", prefix, "\n", "python", "", 500, len)
    assert len(chosen) == 1 and chosen[0].path == "other.py"
    assert "parse_config(handle.read())" in chosen[0].text
    assert jaccard(tokens("x y z"), tokens("x y w")) == 0.5


def test_recent_edits_of_other_files() -> None:
    assert changed_lines("a\nb\nc\n", "a\nB\nc\n") == (1, 1)
    assert changed_lines("a\n", "a\n") is None
    engine = ContextEngine(providers=[])
    engine.add_provider(engine.recent)
    lines = [f"line {i}" for i in range(40)]
    engine.open("file:///w/other.py", "\n".join(lines), "python")
    lines[20] = "total = compute_total(items)"
    engine.change("file:///w/other.py", "\n".join(lines), 2)
    engine.open("file:///w/cur.py", "x = \n", "python")
    chosen = select(engine)
    assert len(chosen) == 1 and "total = compute_total(items)" in chosen[0].text
    assert chosen[0].start_line == 16
    engine.close("file:///w/other.py")
    assert select(engine) == []


def test_recent_edits_merge_neighbouring_keystrokes() -> None:
    recent = RecentEdits()
    recent.record("u", "a\nb\n", "a\nbx\n")
    recent.record("u", "a\nbx\n", "a\nbxy\n")
    recent.record("v", "1\n", "2\n")
    assert len(recent._edits) == 2


def test_analysis_reuses_the_incremental_tree() -> None:
    engine = ContextEngine(providers=[])
    engine.open("file:///w/cur.py", "def f():\n    pass\n", "python")
    engine.change("file:///w/cur.py", "def f():\n    \n", 2)
    analysis = engine.analyze("file:///w/cur.py", "def f():\n    ", "\n", "python")
    assert analysis.kind.value == "multi-line" and analysis.scopes == ["function f"]
    document = engine.document("file:///w/cur.py")
    assert document is not None and document.parsed.text == "def f():\n    \n"


def test_a_big_snippet_is_cut_to_fit_rather_than_dropped() -> None:
    big = "class Style:\n" + "".join(f"    def method_{i}(self) -> int: ...\n" for i in range(200))
    engine = ContextEngine(providers=[FixedProvider([snippet("style.py", big, 1.0)])])
    chosen = select(engine, budget=400)
    assert len(chosen) == 1
    text = chosen[0].text
    assert text.startswith("class Style:\n    def method_0(self)") and text.endswith("\n...")
    assert len(f"style.py\n{text}\n") + 2 <= 400
    assert (
        select(ContextEngine(providers=[FixedProvider([snippet("s.py", big, 1.0)])]), budget=20)
        == []
    )


def test_without_a_workspace_folder_a_named_pipe_is_not_read(tmp_path: Path) -> None:
    """Reading a pipe would block the engine (and the server) for good."""
    os.mkfifo(tmp_path / "pipe.py")
    engine = ContextEngine()
    assert engine.read(tmp_path / "pipe.py") is None
    (tmp_path / "plain.py").write_text("x = 1\n")
    assert engine.read(tmp_path / "plain.py") == "x = 1\n"


def test_a_file_uri_on_another_host_is_no_local_path() -> None:
    from copilot_lsp.context.engine import uri_to_path

    assert uri_to_path("file://otherhost/etc/passwd") is None
    assert uri_to_path("file://localhost/tmp/a.py") == Path("/tmp/a.py").resolve()
    assert uri_to_path("file:///tmp/a%20b.py") == Path("/tmp/a b.py").resolve()
