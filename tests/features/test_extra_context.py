"""Context for special places, through the context engine on the examples: definitions
under test in a test function, the SQL schema where code builds SQL."""

from __future__ import annotations

from pathlib import Path

from copilot_lsp.context.engine import ContextEngine
from copilot_lsp.context.feature_snippets import DefinitionsUnderTest, SchemaTables
from copilot_lsp.prompt.budget import approximate_tokens

EXAMPLES = Path(__file__).parents[2] / "examples"


def snippets_at_end(path: Path, prefix: str, language: str, folder: Path, providers: list):
    engine = ContextEngine(providers=providers)
    engine.add_workspace_folder(str(folder), background=False)
    uri = path.as_uri()
    engine.open(uri, prefix, language)
    return engine.snippets(uri, prefix, "", language, "", 1000, approximate_tokens)


def test_a_python_test_gets_the_definition_of_the_function_it_calls() -> None:
    path = EXAMPLES / "python" / "test_textstats.py"
    text = path.read_text(encoding="utf-8")
    prefix = text + "\n\ndef test_median_again() -> None:\n    assert median([1.0]) == 1.0\n    "
    found = snippets_at_end(path, prefix, "python", EXAMPLES / "python", [DefinitionsUnderTest()])
    assert [snippet.path for snippet in found] == ["textstats.py"]
    assert found[0].text.startswith("def median(values: list[float]) -> float:")
    assert "def mean(" not in found[0].text


def test_outside_a_test_file_there_is_no_definition_under_test() -> None:
    path = EXAMPLES / "python" / "textstats.py"
    prefix = "from textstats import median\n\ndef test_x():\n    assert median([1.0]) == "
    assert not snippets_at_end(path, prefix, "python", EXAMPLES, [DefinitionsUnderTest()])


def test_a_go_query_gets_the_schema_and_plain_code_gets_nothing() -> None:
    path = EXAMPLES / "go-service" / "store.go"
    text = path.read_text(encoding="utf-8")
    prefix = text + '\nfunc (s *Store) Users(ctx context.Context) {\n\ts.db.QueryContext(ctx, "'
    folder = EXAMPLES / "go-service"
    found = snippets_at_end(path, prefix, "go", folder, [SchemaTables()])
    assert found and found[0].path == "schema.sql"
    assert any(snippet.text.startswith("CREATE TABLE users (") for snippet in found)
    plain = "package notes\n\nfunc f() {\n\t"
    assert not snippets_at_end(path, plain, "go", folder, [SchemaTables()])


def test_the_default_engine_includes_both_providers() -> None:
    names = {provider.name for provider in ContextEngine().providers}
    assert {"test_subject", "sql_schema"} <= names
