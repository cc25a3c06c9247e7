"""Extra prompt context on the examples: definitions under test and the SQL schema."""

from __future__ import annotations

from pathlib import Path

from copilot_lsp.features.extra_context import SchemaCache, extra_context, with_context
from copilot_lsp.prompt.fim import Budget

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_a_python_test_gets_the_definition_of_the_function_it_calls() -> None:
    path = EXAMPLES / "python" / "test_textstats.py"
    text = path.read_text(encoding="utf-8")
    prefix = text + "\n\ndef test_median_again() -> None:\n    assert median([1.0]) == 1.0\n    "
    context = extra_context(path, "python", prefix, EXAMPLES, SchemaCache())
    assert context.startswith("# Definition under test, from textstats:\n")
    assert "# def median(values: list[float]) -> float:" in context
    assert "def mean(" not in context


def test_a_go_query_gets_the_schema_and_plain_code_gets_nothing() -> None:
    path = EXAMPLES / "go-service" / "store.go"
    text = path.read_text(encoding="utf-8")
    prefix = text + '\nfunc (s *Store) Users(ctx context.Context) {\n\ts.db.QueryContext(ctx, "'
    context = extra_context(path, "go", prefix, EXAMPLES / "go-service", SchemaCache())
    assert "// CREATE TABLE users (" in context
    plain = extra_context(path, "go", "package notes\n\nfunc f() {\n\t", EXAMPLES, SchemaCache())
    assert plain == ""


def test_with_context_keeps_the_whole_within_the_prefix_budget() -> None:
    budget = Budget(prefix_chars=1000)
    prefix = "".join(f"line {n}\n" for n in range(500))
    combined = with_context("# context\n", prefix, budget)
    assert combined.startswith("# context\n\n") and combined.endswith("line 499\n")
    assert len(combined) <= 1000
    assert with_context("", prefix, budget) == prefix
