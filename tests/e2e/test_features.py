"""Features through the real server and the real fast model, on copies of examples/:
comment-to-code, inline test assertions, `copilot.generateTests`, SQL from a schema."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any, Union

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from lsprotocol.converters import get_converter
from pytest_lsp import ClientServerConfig, LanguageClient

from copilot_lsp.documents import UTF16, Document
from tests.e2e.conftest import (
    SERVER,
    apply_item,
    ask,
    capabilities,
    open_document,
    wait_until_settled,
)

pytestmark = pytest.mark.model
EXAMPLES = Path(__file__).parents[2] / "examples"
WORKSPACE = Path(tempfile.mkdtemp(prefix="copilot-features-")) / "examples"
shutil.copytree(EXAMPLES, WORKSPACE)
converter = get_converter()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module")
async def client(lsp_client: LanguageClient):
    """A server on the fast model with a copy of examples/ as its workspace."""
    result = await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=capabilities(),
            root_uri=WORKSPACE.as_uri(),
            initialization_options={"model": "fast", "maxNewTokens": 160},
        )
    )
    lsp_client.server_capabilities = result.capabilities  # type: ignore[attr-defined]
    settled = await wait_until_settled(lsp_client)
    assert settled["state"] == "ready", settled
    yield
    await lsp_client.shutdown_session()
    shutil.rmtree(WORKSPACE.parent, ignore_errors=True)


async def complete_at(
    client: LanguageClient, path: Path, text: str, cursor: int, language: str
) -> str:
    """Write and open ``path`` with ``text``, ask at ``cursor``, return the accepted text."""
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    open_document(client, uri, text, language)
    line, character = Document(uri, text).position_at(cursor, UTF16)
    result = await client.text_document_inline_completion_async(ask(uri, line, character))
    client.text_document_did_close(
        lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
    )
    assert isinstance(result, lsp.InlineCompletionList) and result.items, "no completion"
    return apply_item(text, result.items[0])


def load_module(path: Path) -> ModuleType:
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(path.stem + "_under_test", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(path.parent))


def pytest_in(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=120,
    )


# -- comment-to-code ---------------------------------------------------------------------


async def test_top_level_comment_becomes_a_working_function(client: LanguageClient) -> None:
    text = "# Return how many vowels (a, e, i, o, u) the text has, ignoring case.\n"
    path = WORKSPACE / "python" / "vowels.py"
    completed = await complete_at(client, path, text, len(text), "python")
    assert completed[len(text) :].strip().count("\n") >= 1, completed
    functions = [n for n in ast.parse(completed).body if isinstance(n, ast.FunctionDef)]
    assert len(functions) == 1, completed
    path.write_text(completed, encoding="utf-8")
    assert getattr(load_module(path), functions[0].name)("Education") == 5


async def test_docstring_only_body_is_implemented_and_passes_the_example_tests(
    client: LanguageClient,
) -> None:
    folder = WORKSPACE / "python"
    original = (EXAMPLES / "python" / "textstats.py").read_text(encoding="utf-8")
    body = (
        '    if not values:\n        raise ValueError("mean of an empty list")\n'
        "    return sum(values) / len(values)\n"
    )
    start = original.index(body)
    text = original[:start] + "    \n" + original[start + len(body) :]
    try:
        completed = await complete_at(client, folder / "textstats.py", text, start + 4, "python")
        ast.parse(completed)
        (folder / "textstats.py").write_text(completed, encoding="utf-8")
        run = pytest_in(folder, "-k", "mean", "test_textstats.py")
        assert run.returncode == 0, completed + run.stdout
    finally:
        (folder / "textstats.py").write_text(original, encoding="utf-8")


async def test_go_doc_comment_and_empty_body_complete_to_the_body(
    client: LanguageClient,
) -> None:
    original = (EXAMPLES / "go" / "wordfreq.go").read_text(encoding="utf-8")
    header = "func Count(text string) map[string]int {\n"
    start = original.index(header) + len(header)
    text = original[:start] + "\t\n}\n"
    path = WORKSPACE / "go" / "wordfreq.go"
    try:
        completed = await complete_at(client, path, text, start + 1, "go")
    finally:
        path.write_text(original, encoding="utf-8")
    body = completed[start:]
    assert "return" in body and "strings." in body, body
    assert completed.count("{") == completed.count("}"), completed


# -- inline test assertions --------------------------------------------------------------


async def test_next_assertion_in_a_test_uses_the_function_under_test(
    client: LanguageClient,
) -> None:
    folder = WORKSPACE / "python"
    original = (folder / "test_textstats.py").read_text(encoding="utf-8")
    text = (
        original
        + "\n\ndef test_median_of_one_value() -> None:\n    assert median([7.0]) == 7.0\n    "
    )
    try:
        completed = await complete_at(
            client, folder / "test_textstats.py", text, len(text), "python"
        )
        added = completed[len(text) - 4 :]
        assert added.lstrip().startswith("assert"), added
        assert "median(" in added, added
        ast.parse(completed)
        run = pytest_in(folder, "--collect-only", "-q", "test_textstats.py")
        assert run.returncode == 0, run.stdout
    finally:
        (folder / "test_textstats.py").write_text(original, encoding="utf-8")


# -- copilot.generateTests -----------------------------------------------------------------


def apply_workspace_edit(edit: lsp.WorkspaceEdit) -> list[Path]:
    """Apply create-file and text-document edits to disk (as an editor would)."""
    touched: list[Path] = []
    for change in edit.document_changes or []:
        if isinstance(change, lsp.CreateFile):
            path = Path(change.uri.removeprefix("file://"))
            if not path.exists():
                path.write_text("", encoding="utf-8")
            continue
        assert isinstance(change, lsp.TextDocumentEdit)
        path = Path(change.text_document.uri.removeprefix("file://"))
        text = path.read_text(encoding="utf-8")
        document = Document(change.text_document.uri, text)
        spans = []
        for text_edit in change.edits:
            assert isinstance(text_edit, lsp.TextEdit)
            start = document.offset_at(
                text_edit.range.start.line, text_edit.range.start.character, UTF16
            )
            end = document.offset_at(text_edit.range.end.line, text_edit.range.end.character, UTF16)
            spans.append((start, end, text_edit.new_text))
        for start, end, new_text in sorted(spans, reverse=True):
            text = text[:start] + new_text + text[end:]
        path.write_text(text, encoding="utf-8")
        touched.append(path)
    return touched


def fix_code_action_parsing(client: LanguageClient) -> None:
    """lsprotocol reads any code action that carries a command as a bare Command; tell
    them apart by the type of ``command`` (a string only in a bare Command)."""

    def hook(value: Any, _: type) -> lsp.Command | lsp.CodeAction:
        kind = lsp.Command if isinstance(value.get("command"), str) else lsp.CodeAction
        return converter.structure(value, kind)

    client.protocol._converter.register_structure_hook(  # type: ignore[attr-defined]
        Union[lsp.Command, lsp.CodeAction],  # noqa: UP007 (the key lsprotocol registers)
        hook,
    )


async def generate_tests_at(
    client: LanguageClient, path: Path, needle: str, language: str
) -> lsp.WorkspaceEdit:
    fix_code_action_parsing(client)
    text = path.read_text(encoding="utf-8")
    open_document(client, path.as_uri(), text, language)
    line, character = Document(path.as_uri(), text).position_at(text.index(needle), UTF16)
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=path.as_uri()),
            range=lsp.Range(start=lsp.Position(line, character), end=lsp.Position(line, character)),
            context=lsp.CodeActionContext(diagnostics=[]),
        )
    )
    assert actions, "no code action offered"
    action = actions[0]
    assert isinstance(action, lsp.CodeAction) and action.command is not None
    assert action.title.startswith("Generate tests for ")
    result = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command=action.command.command, arguments=action.command.arguments)
    )
    return converter.structure(plain(result), lsp.WorkspaceEdit)


def plain(value: Any) -> Any:
    """pygls hands untyped results back as named tuples: make them JSON-like again."""
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


async def test_generate_tests_command_is_advertised(client: LanguageClient) -> None:
    capabilities = client.server_capabilities  # type: ignore[attr-defined]
    assert "copilot.generateTests" in capabilities.execute_command_provider.commands
    assert capabilities.code_action_provider


async def test_generate_tests_for_a_python_function_appends_a_test_that_runs(
    client: LanguageClient,
) -> None:
    folder = WORKSPACE / "python"
    original = (folder / "test_textstats.py").read_text(encoding="utf-8")
    try:
        edit = await generate_tests_at(client, folder / "textstats.py", "cleaned = [", "python")
        (path,) = apply_workspace_edit(edit)
        assert path == folder / "test_textstats.py"
        new = path.read_text(encoding="utf-8")
        assert new.startswith(original.rstrip("\n")) and "def test_is_palindrome_2(" in new
        ast.parse(new)
        run = pytest_in(folder, "-rA", "test_textstats.py::test_is_palindrome_2")
        # It imports and runs (a wrong expectation from the small model may fail it).
        assert "1 passed" in run.stdout or "1 failed" in run.stdout, run.stdout
        assert "Error" not in run.stdout.split("short test summary")[0].split("FAILURES")[0]
    finally:
        (folder / "test_textstats.py").write_text(original, encoding="utf-8")


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
async def test_generate_tests_for_a_js_method_creates_a_node_test_file_that_runs(
    client: LanguageClient,
) -> None:
    folder = WORKSPACE / "javascript"
    edit = await generate_tests_at(client, folder / "cart.js", "sum + item.price", "javascript")
    assert isinstance((edit.document_changes or [None])[0], lsp.CreateFile)
    (path,) = apply_workspace_edit(edit)
    assert path == folder / "cart.test.js"
    run = subprocess.run(
        ["node", "--test", path.name], capture_output=True, text=True, cwd=folder, timeout=120
    )
    assert "# tests 1" in run.stdout, run.stdout + run.stderr
    path.unlink()


async def test_no_code_action_outside_a_function(client: LanguageClient) -> None:
    path = WORKSPACE / "python" / "textstats.py"
    open_document(client, path.as_uri(), path.read_text(encoding="utf-8"), "python")
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=path.as_uri()),
            range=lsp.Range(start=lsp.Position(2, 0), end=lsp.Position(2, 0)),
            context=lsp.CodeActionContext(diagnostics=[]),
        )
    )
    assert not actions


# -- SQL from a schema ------------------------------------------------------------------


async def test_python_query_uses_the_schema_columns_and_runs(client: LanguageClient) -> None:
    folder = WORKSPACE / "python-sqlite"
    text = (
        "import sqlite3\n\n\n"
        "def authors_born_before(conn: sqlite3.Connection, year: int) -> list[str]:\n"
        '    """Names of the authors born before ``year``, alphabetically."""\n'
        '    rows = conn.execute("SELECT '
    )
    completed = await complete_at(client, folder / "reports.py", text, len(text), "python")
    added = completed[len(text) :]
    assert "full_name" in added and "birth_year" in added, added
    ast.parse(completed)
    (folder / "reports.py").write_text(completed, encoding="utf-8")
    db = load_module(folder / "db.py")
    conn = db.connect()
    conn.execute("INSERT INTO authors (full_name, birth_year) VALUES ('Ann', 1900), ('Bo', 1990)")
    rows = load_module(folder / "reports.py").authors_born_before(conn, 1950)
    assert "Ann" in str(rows) and "Bo" not in str(rows)


async def test_go_query_uses_the_schema_sql_tables(client: LanguageClient) -> None:
    folder = WORKSPACE / "go-service"
    text = (
        'package notes\n\nimport "context"\n\n'
        "// RecentUserEmails returns the emails of the newest users first.\n"
        "func (s *Store) RecentUserEmails(ctx context.Context, limit int) ([]string, error) {\n"
        '\trows, err := s.db.QueryContext(ctx, "SELECT '
    )
    completed = await complete_at(client, folder / "recent.go", text, len(text), "go")
    line = completed[len(text) :].split("\n", 1)[0]
    assert "email" in line and "users" in line and "created_at" in line, line
