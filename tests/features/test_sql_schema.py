"""SQL-from-schema context: table discovery, SQL-building detection, choice, rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot_lsp.context.sql_schema import (
    builds_sql,
    find_tables,
    latest_tables,
    relevant_tables,
    scan_workspace,
    schema_tables,
)

EXAMPLES = Path(__file__).parents[2] / "examples"
SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    CONSTRAINT email_ok CHECK (email LIKE '%@%')
);
create table if not exists "orders" (
  id integer primary key,
  user_id integer references users(id),
  total_cents integer default (0),
  PRIMARY KEY (id)
);
CREATE TABLE audit_log (id INTEGER, message TEXT);
"""


def test_find_tables_reads_names_and_columns_and_skips_constraints() -> None:
    tables = {table.name: table for table in find_tables(SCHEMA, "schema.sql")}
    assert list(tables) == ["users", "orders", "audit_log"]
    assert tables["users"].columns == ("id", "email")
    assert tables["orders"].columns == ("id", "user_id", "total_cents")
    assert tables["orders"].references == ("users",)
    assert tables["orders"].statement.startswith('create table if not exists "orders" (')
    assert tables["orders"].statement.endswith(");")


def test_tables_in_code_strings_are_found_too() -> None:
    code = 'SCHEMA = """\nCREATE TABLE books (id INTEGER, title TEXT)\n"""\n'
    (table,) = find_tables(code, "db.py")
    assert (table.name, table.columns) == ("books", ("id", "title"))


def test_a_later_migration_replaces_an_earlier_table() -> None:
    first = find_tables("CREATE TABLE t (a INT);", "001.sql")
    second = find_tables("CREATE TABLE t (a INT, b INT);", "002.sql")
    (table,) = latest_tables(first + second)
    assert table.columns == ("a", "b")


@pytest.mark.parametrize(
    ("language", "prefix"),
    [
        ("python", 'import sqlite3\n\ndef f(conn):\n    rows = conn.execute("SELECT '),
        ("python", "import sqlite3\ncur = conn.cursor()\ncur.execute(\n    "),
        ("python", 'import psycopg2\nquery = """\n    SELECT name FROM '),
        ("go", 'import "database/sql"\nfunc f(db *sql.DB) {\n\trows, err := db.Query("SELECT '),
        ("go", 'import "database/sql"\n\tresult, err := s.db.ExecContext(ctx, `INSERT INTO '),
    ],
)
def test_code_building_sql_is_detected(language: str, prefix: str) -> None:
    assert builds_sql(prefix, language)


@pytest.mark.parametrize(
    ("language", "prefix"),
    [
        ("python", "def mean(xs):\n    return sum(xs) / "),
        ("python", 'print("select a color")\n'),  # no database in sight
        ("go", 'import "strings"\nfunc f() {\n\tx := strings.Fields('),
        ("go", 'import "os/exec"\ncmd.Exec("SELECT")'),  # no database/sql
    ],
)
def test_other_code_is_not(language: str, prefix: str) -> None:
    assert not builds_sql(prefix, language)


def test_relevant_tables_prefer_the_mentioned_ones_and_follow_foreign_keys() -> None:
    tables = find_tables(SCHEMA)
    chosen = relevant_tables(
        tables, "def orders_of(conn):\n    conn.execute('SELECT total_cents", 4
    )
    assert [table.name for table in chosen] == ["orders", "users"]
    # Nothing mentioned: all tables, up to the limit.
    assert len(relevant_tables(tables, "x = 1", limit=2)) == 2


def test_schema_tables_for_the_python_example() -> None:
    sources = scan_workspace(EXAMPLES / "python-sqlite")
    assert [label for label, _ in sources] == ["db.py"]
    prefix = (
        "import sqlite3\n\n\ndef loans_of(conn: sqlite3.Connection, email: str):\n"
        '    return conn.execute("SELECT '
    )
    tables = schema_tables(sources, prefix, "python")
    assert tables[0].name == "loans" and tables[0].source == "db.py"
    assert tables[0].statement.startswith("CREATE TABLE IF NOT EXISTS loans (")
    assert "borrower_email TEXT NOT NULL," in tables[0].statement
    assert schema_tables(sources, "def f():\n    return 1 + ", "python") == []


def test_schema_tables_for_the_go_example() -> None:
    sources = scan_workspace(EXAMPLES / "go-service")
    assert [label for label, _ in sources] == ["schema.sql"]
    store = (EXAMPLES / "go-service" / "store.go").read_text(encoding="utf-8")
    prefix = store + '\nfunc (s *Store) NotesOf(ownerID int64) {\n\trows, err := s.db.Query("'
    tables = schema_tables(sources, prefix, "go")
    assert tables[0].name == "notes" and "headline" in tables[0].statement
