"""Database schema as prompt context: code that builds SQL sees the real tables.

Pure functions over texts: find ``CREATE TABLE`` statements (``.sql`` files, migrations,
SQL strings in code), decide whether the code at the cursor builds SQL (Go
``database/sql``, Python DB-API / sqlite3), and pick the tables that matter there.
:func:`schema_tables` is the one entry point the context engine needs;
:func:`scan_workspace` (and its :func:`read_regular_file`) is the only function that
touches the file system; it follows the workspace index's rules (.gitignore, skipped
folders, size limit, regular files only).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from copilot_lsp.context import gitignore
from copilot_lsp.context.workspace import SKIPPED_FOLDERS, IndexLimits

SQL_FILE_SUFFIXES = (".sql",)
CODE_FILE_SUFFIXES = (".py", ".go", ".js", ".ts", ".java", ".rb", ".php", ".rs")
SKIPPED_DIRS = SKIPPED_FOLDERS | {"vendor"}
"""The workspace index's skipped folders, plus vendored code (hidden folders too)."""
MAX_FILES = 2000
MAX_FILE_BYTES = IndexLimits().max_file_bytes
"""The workspace index's limit: larger files are dumps or generated."""

_CREATE_TABLE = re.compile(
    r"\bCREATE\s+(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(?P<name>[`\"\[]?[\w.]+[`\"\]]?)\s*\(",
    re.IGNORECASE,
)
_CONSTRAINT_WORDS = {"primary", "foreign", "unique", "check", "constraint", "key", "index"}
_REFERENCES = re.compile(r"\bREFERENCES\s+[`\"\[]?(?P<table>[\w.]+)", re.IGNORECASE)

_SQL_VERBS = re.compile(
    r"\b(SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM|FROM|JOIN|WHERE|VALUES)\b", re.IGNORECASE
)
_PY_DB_CALL = re.compile(
    r"\.(execute|executemany|executescript|fetchone|fetchall|fetchmany|cursor)\s*\("
)
_GO_DB_CALL = re.compile(
    r"\.(Query|QueryRow|QueryContext|QueryRowContext|Exec|ExecContext|Prepare|PrepareContext)\s*\("
)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    """Column names in declaration order."""
    statement: str
    """The whole ``CREATE TABLE ...;`` text, whitespace normalised per line."""
    source: str
    """Where it was found (a path relative to the workspace, or any label)."""

    @property
    def references(self) -> tuple[str, ...]:
        """Tables this one points to with foreign keys."""
        return tuple(
            dict.fromkeys(_bare(m.group("table")) for m in _REFERENCES.finditer(self.statement))
        )


def _bare(name: str) -> str:
    return name.strip('`"[]').split(".")[-1]


def _closing_paren(text: str, open_at: int) -> int | None:
    """Index of the ``)`` matching the ``(`` at ``open_at`` (quotes respected)."""
    depth = 0
    quote = ""
    for index in range(open_at, len(text)):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    return None


def _split_top_level(body: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current = ""
    for char in body:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def _column_names(body: str) -> tuple[str, ...]:
    names: list[str] = []
    for part in _split_top_level(body):
        word = part.split()[0]
        if word.lower() in _CONSTRAINT_WORDS:
            continue
        names.append(_bare(word))
    return tuple(names)


def _tidy(statement: str) -> str:
    lines = [line.rstrip() for line in statement.strip().split("\n")]
    lines = [line for line in lines if line.strip()]
    if not lines:
        return ""
    # Re-indent continuation lines by two spaces, whatever the code around used.
    return "\n".join([lines[0].strip()] + ["  " + line.strip() for line in lines[1:]])


def find_tables(text: str, source: str = "") -> list[Table]:
    """Every ``CREATE TABLE`` statement in ``text`` (SQL or code with SQL strings)."""
    tables: list[Table] = []
    for match in _CREATE_TABLE.finditer(text):
        open_at = match.end() - 1
        close_at = _closing_paren(text, open_at)
        if close_at is None:
            continue
        body = text[open_at + 1 : close_at]
        columns = _column_names(body)
        if not columns:
            continue
        statement = _tidy(text[match.start() : close_at + 1]) + ";"
        tables.append(Table(_bare(match.group("name")), columns, statement, source))
    return tables


def latest_tables(tables: Iterable[Table]) -> list[Table]:
    """One table per name: the last definition wins (later migrations replace earlier)."""
    by_name: dict[str, Table] = {}
    for table in tables:
        by_name.pop(table.name.lower(), None)
        by_name[table.name.lower()] = table
    return list(by_name.values())


def builds_sql(prefix: str, language: str, window_lines: int = 12) -> bool:
    """Whether the code just before the cursor is building or running a SQL statement.

    Looks at the last ``window_lines`` lines: a DB-API / ``database/sql`` call, or a SQL
    keyword inside a string, in a file that uses a database driver.
    """
    recent = "\n".join(prefix.split("\n")[-window_lines:])
    if language == "go":
        uses_db = "database/sql" in prefix or "*sql.DB" in prefix or "sqlx" in prefix
        call = _GO_DB_CALL.search(recent) is not None
    elif language == "python":
        uses_db = (
            bool(
                re.search(
                    r"^\s*(import|from)\s+(sqlite3|psycopg\w*|pymysql|MySQLdb|duckdb)", prefix, re.M
                )
            )
            or "cursor" in prefix
            or "execute(" in prefix
        )
        call = _PY_DB_CALL.search(recent) is not None
    else:
        uses_db = True
        call = _PY_DB_CALL.search(recent) is not None or _GO_DB_CALL.search(recent) is not None
    in_sql_string = bool(_SQL_VERBS.search(_string_text(recent)))
    return uses_db and (call or in_sql_string)


def _string_text(code: str) -> str:
    """The contents of string literals in ``code`` (an open one at the end included)."""
    pieces = re.findall(
        r"\"\"\"(.*?)(?:\"\"\"|$)|'''(.*?)(?:'''|$)|`([^`]*)`?|\"([^\"\n]*)\"?|'([^'\n]*)'?",
        code,
        re.S,
    )
    return " ".join("".join(groups) for groups in pieces)


def _words(text: str) -> set[str]:
    """Identifiers in ``text`` and their parts (``orders_of`` -> orders, of; ``userID``)."""
    words: set[str] = set()
    for identifier in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text):
        words.add(identifier.lower())
        for part in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", identifier):
            words.add(part.lower())
    return words


def _mentions(table: Table, words: set[str]) -> int:
    name = table.name.lower()
    forms = {
        name,
        name.rstrip("s"),
        name + "s",
        name.removesuffix("es"),
        name.removesuffix("ies") + "y",
    }
    score = 3 * len(forms & words)
    score += len({column.lower() for column in table.columns} & words) // 2
    return score


def relevant_tables(tables: list[Table], near_cursor: str, limit: int = 4) -> list[Table]:
    """The tables the code near the cursor talks about, plus the tables they reference.

    With no table mentioned, all of them (up to ``limit``), in definition order.
    """
    words = _words(near_cursor)
    scored = sorted(
        (
            (score, index, table)
            for index, table in enumerate(tables)
            if (score := _mentions(table, words))
        ),
        key=lambda item: (-item[0], item[1]),
    )
    chosen = [table for _, _, table in scored[:limit]]
    if not chosen:
        return tables[:limit]
    by_name = {table.name.lower(): table for table in tables}
    for table in list(chosen):
        for reference in table.references:
            target = by_name.get(reference.lower())
            if target is not None and target not in chosen and len(chosen) < limit:
                chosen.append(target)
    return chosen


def schema_tables(sources: Iterable[tuple[str, str]], prefix: str, language: str) -> list[Table]:
    """The tables that matter for SQL built at the end of ``prefix``, most relevant first
    (none when the code there does not build SQL)."""
    if not builds_sql(prefix, language):
        return []
    tables = latest_tables(table for label, text in sources for table in find_tables(text, label))
    near = "\n".join(prefix.split("\n")[-30:])
    return relevant_tables(tables, near) if tables else []


def has_create_table(text: str) -> bool:
    return re.search(r"create\s+(temp\w*\s+)?table", text, re.IGNORECASE) is not None


def read_regular_file(path: Path, max_bytes: int) -> str | None:
    """The text of ``path`` when it is a regular file of at most ``max_bytes``, else None.

    Opened without following a link (it could point out of the workspace) and without
    blocking, then checked on the open file: a named pipe or a device is never read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read(max_bytes + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data.decode("utf-8", errors="replace") if len(data) <= max_bytes else None


def _candidate_files(root: Path, max_files: int = MAX_FILES) -> Iterator[Path]:
    """SQL and code files under ``root`` by the workspace index's rules: .gitignore files
    (nested ones scoped to their folder) obeyed, skipped and hidden folders pruned; at
    most ``max_files``, in a stable order."""
    rules: list[gitignore.Rule] = []
    count = 0
    for directory, folders, files in os.walk(root):
        here = Path(directory)
        base = here.relative_to(root).as_posix()
        base = "" if base == "." else base
        if ".gitignore" in files:
            rules += gitignore.parse(read_regular_file(here / ".gitignore", 1 << 20) or "", base)

        def relative(name: str, base: str = base) -> str:
            return f"{base}/{name}" if base else name

        folders[:] = sorted(
            name
            for name in folders
            if name not in SKIPPED_DIRS
            and not name.startswith(".")
            and not gitignore.ignored(rules, relative(name), is_folder=True)
        )
        for name in sorted(files):
            if Path(name).suffix.lower() not in SQL_FILE_SUFFIXES + CODE_FILE_SUFFIXES:
                continue
            if gitignore.ignored(rules, relative(name), is_folder=False):
                continue
            count += 1
            if count > max_files:
                return
            yield here / name


def scan_workspace(root: Path, max_file_bytes: int = MAX_FILE_BYTES) -> list[tuple[str, str]]:
    """``(relative path, text)`` of files under ``root`` that contain ``CREATE TABLE``."""
    found: list[tuple[str, str]] = []
    for path in _candidate_files(root):
        text = read_regular_file(path, max_file_bytes)
        if text is not None and has_create_table(text):
            found.append((path.relative_to(root).as_posix(), text))
    return found
