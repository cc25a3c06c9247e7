"""Where the SQL schema provider may look: the workspace index's rules (.gitignore, skipped
folders, size limit, regular files), never outside the workspace folders, and never
holding the engine while it scans."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

from copilot_lsp.context import sql_schema
from copilot_lsp.context.engine import ContextEngine
from copilot_lsp.context.feature_snippets import SchemaTables
from copilot_lsp.prompt.budget import approximate_tokens

QUERY = "import sqlite3\ncur = sqlite3.connect('x.db').cursor()\ncur.execute(\"SELECT * FROM "


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def table(name: str) -> str:
    return f"CREATE TABLE {name} (id INTEGER, secret TEXT);\n"


def schema_snippets(engine: ContextEngine, path: Path, text: str = QUERY) -> list[str]:
    uri = path.as_uri()
    engine.open(uri, text, "python")
    found = engine.snippets(uri, text, "", "python", "", 1000, approximate_tokens)
    return [snippet.path for snippet in found if snippet.source == "sql_schema"]


def eventually(engine: ContextEngine, path: Path, text: str = QUERY) -> list[str]:
    """The schema snippets once the background scan has found something (10 s at most)."""
    deadline = time.monotonic() + 10
    while not (found := schema_snippets(engine, path, text)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


def test_the_scan_obeys_the_workspace_index_rules(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".gitignore": "private/\n*.local.sql\n",
            "private/dump.sql": table("users"),
            "db.local.sql": table("cards"),
            "sub/.gitignore": "old.sql\n",
            "sub/old.sql": table("legacy"),
            "sub/new.sql": table("fresh"),
            "node_modules/pkg/schema.sql": table("vendored"),
            "target/schema.sql": table("built"),
            "big.sql": table("big") + "-- padding\n" * 30_000,
            "schema.sql": table("kept"),
        },
    )
    (tmp_path / "linked.sql").symlink_to(tmp_path / "private" / "dump.sql")
    labels = [label for label, _ in sql_schema.scan_workspace(tmp_path)]
    assert labels == ["schema.sql", "sub/new.sql"]


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes are POSIX here")
def test_a_named_pipe_is_never_opened(tmp_path: Path) -> None:
    write(tmp_path, {"schema.sql": table("kept")})
    pipe = tmp_path / "dump.sql"
    os.mkfifo(pipe)
    result: list[list[tuple[str, str]]] = []
    scan = threading.Thread(target=lambda: result.append(sql_schema.scan_workspace(tmp_path)))
    scan.start()
    scan.join(5)
    finished = not scan.is_alive()
    if not finished:  # release a reader blocked on the pipe, so the test ends
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        scan.join(5)
    assert finished
    assert [label for label, _ in result[0]] == ["schema.sql"]


def test_a_gitignored_schema_stays_out_of_the_prompt(tmp_path: Path) -> None:
    write(
        tmp_path,
        {".gitignore": "private/\n", "private/dump.sql": table("users"), "a.sql": table("t")},
    )
    engine = ContextEngine(providers=[SchemaTables()])
    engine.add_workspace_folder(str(tmp_path), background=False)
    assert eventually(engine, tmp_path / "app.py", QUERY + "users") == ["a.sql"]


@pytest.mark.parametrize("with_folder", [True, False])
def test_outside_the_workspace_only_open_documents_count(tmp_path: Path, with_folder: bool) -> None:
    workspace, elsewhere = tmp_path / "ws", tmp_path / "home"
    write(workspace, {"app.py": "x = 1\n"})
    write(elsewhere, {"other/old.py": f"SQL = '{table('patients').strip()}'\n"})
    engine = ContextEngine(providers=[SchemaTables()])
    if with_folder:
        engine.add_workspace_folder(str(workspace), background=False)
    document = elsewhere / "notes.py"
    assert schema_snippets(engine, document, QUERY + "patients") == []
    # A schema the user opened in the editor is fair game.
    schema = elsewhere / "other" / "schema.sql"
    engine.open(schema.as_uri(), table("patients"), "sql")
    assert schema_snippets(engine, document, QUERY + "patients") == ["schema.sql"]


def test_a_slow_scan_does_not_hold_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"schema.sql": table("users")})
    scan = sql_schema.scan_workspace

    def slow_scan(root: Path, *args: object) -> list[tuple[str, str]]:
        time.sleep(2)
        return scan(root, *args)

    monkeypatch.setattr(sql_schema, "scan_workspace", slow_scan)
    engine = ContextEngine(providers=[SchemaTables()])
    engine.add_workspace_folder(str(tmp_path), background=False)
    other = (tmp_path / "other.py").as_uri()
    engine.open(other, "y = 1\n", "python")
    found: list[list[str]] = []
    request = threading.Thread(
        target=lambda: found.append(schema_snippets(engine, tmp_path / "app.py"))
    )
    request.start()
    time.sleep(0.05)
    started = time.perf_counter()
    engine.change(other, "y = 2\n")  # a didChange on the event loop meanwhile
    waited = time.perf_counter() - started
    request.join()
    assert waited < 1.0
    assert found == [[]]  # the first request went without the schema...
    assert eventually(engine, tmp_path / "app.py") == ["schema.sql"]  # ...later ones not


def test_a_rescan_runs_in_the_background_on_the_last_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"schema.sql": table("users")})
    engine = ContextEngine(providers=[SchemaTables(rescan_seconds=0.0)])
    engine.add_workspace_folder(str(tmp_path), background=False)
    assert eventually(engine, tmp_path / "app.py") == ["schema.sql"]
    time.sleep(0.5)  # the rescans started meanwhile end
    monkeypatch.setattr(sql_schema, "scan_workspace", lambda *args: time.sleep(2) or [])
    started = time.perf_counter()
    assert schema_snippets(engine, tmp_path / "app.py") == ["schema.sql"]
    assert time.perf_counter() - started < 1.0
