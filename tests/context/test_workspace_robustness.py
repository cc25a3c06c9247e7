"""The workspace index against what real trees hold: odd .gitignore patterns, ignored files
reported by the editor, named pipes, symlinked folders, files changed behind its back."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot_lsp.context import gitignore
from copilot_lsp.context import workspace as workspace_module
from copilot_lsp.context.engine import ContextEngine
from copilot_lsp.context.workspace import IndexLimits, WorkspaceIndex


def indexed(index: WorkspaceIndex) -> set[str]:
    return {f.relative for f in index.files()}


def make_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_an_invalid_gitignore_pattern_matches_nothing(tmp_path: Path) -> None:
    rules = gitignore.parse("[z-a].py\n*.log\n")
    assert gitignore.ignored(rules, "x.log", is_folder=False)
    assert not gitignore.ignored(rules, "a.py", is_folder=False)
    make_tree(
        tmp_path,
        {
            ".gitignore": "[z-a].py\nskip.py\n",
            "a.py": "A = 1\n",
            "skip.py": "S = 1\n",
            "pkg/.gitignore": "[!z-a]*.py\n",
            "pkg/b.py": "B = 1\n",
        },
    )
    index = WorkspaceIndex()
    index.add_folder(tmp_path)  # in the background, as the server does
    index.wait(30)
    assert indexed(index) == {"a.py", "pkg/b.py"}


@pytest.mark.parametrize(
    ("line", "ignored", "kept"),
    [
        ("\\#notes.py", "#notes.py", "notes.py"),
        ("\\!important.py", "!important.py", "important.py"),
        ("\\[abc].py", "[abc].py", "a.py"),
        ("\\*.py", "*.py", "x.py"),
        ("trail.py\\ ", "trail.py ", "trail.py"),
        ("[]]x.py", "]x.py", "x.py"),
    ],
)
def test_gitignore_backslash_escapes(line: str, ignored: str, kept: str) -> None:
    rules = gitignore.parse(line + "\n")
    assert gitignore.ignored(rules, ignored, is_folder=False)
    assert not gitignore.ignored(rules, kept, is_folder=False)


def test_save_and_watched_files_obey_gitignore_and_skipped_folders(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            ".gitignore": "secret/\n",
            "secret/keys.py": "KEY = 'sk-live'\n",
            "node_modules/x/y.py": "Y = 1\n",
            "pkg/.gitignore": "local_*.py\n",
            "pkg/local_settings.py": "DEBUG = True\n",
            "pkg/ok.py": "OK = 1\n",
            "main.py": "import pkg.ok\n",
        },
    )
    engine = ContextEngine()
    engine.add_workspace_folder(tmp_path.as_uri(), background=False)
    assert indexed(engine.workspace) == {"main.py", "pkg/ok.py"}
    events = ["secret/keys.py", "node_modules/x/y.py", "pkg/local_settings.py", "pkg/new.py"]
    (tmp_path / "pkg/new.py").write_text("NEW = 1\n")
    engine.files_changed([((tmp_path / name).as_uri(), False) for name in events])
    engine.save((tmp_path / "secret/keys.py").as_uri())
    assert indexed(engine.workspace) == {"main.py", "pkg/ok.py", "pkg/new.py"}
    assert engine.workspace.read(tmp_path / "secret/keys.py") is None
    # A file that became ignored leaves the index on its next event.
    (tmp_path / ".gitignore").write_text("secret/\nmain.py\n")
    engine.save((tmp_path / "main.py").as_uri())
    assert indexed(engine.workspace) == {"pkg/ok.py", "pkg/new.py"}


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pipe.py"
    os.mkfifo(path)
    yield path
    with contextlib.suppress(OSError):  # a reader left blocked in open() is released
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def test_named_pipes_are_neither_indexed_nor_read(tmp_path: Path, fifo: Path) -> None:
    make_tree(tmp_path, {"main.py": "import pipe\n", "later.py": "L = 1\n"})
    index = WorkspaceIndex()
    index.add_folder(tmp_path, background=False)
    assert indexed(index) == {"main.py", "later.py"}
    index.refresh(fifo)
    assert indexed(index) == {"main.py", "later.py"}
    # An indexed file replaced by a pipe: reading it neither blocks nor returns text.
    (tmp_path / "later.py").unlink()
    os.mkfifo(tmp_path / "later.py")
    result: list[str | None] = []
    reader = threading.Thread(target=lambda: result.append(index.read(tmp_path / "later.py")))
    reader.daemon = True
    reader.start()
    reader.join(5)
    blocked = reader.is_alive()
    if blocked:
        os.close(os.open(tmp_path / "later.py", os.O_WRONLY | os.O_NONBLOCK))
    assert not blocked
    assert result == [None]
    assert indexed(index) == {"main.py"}


def test_a_folder_removed_during_its_scan_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path, {f"pkg{i}/m.py": "M = 1\n" for i in range(3)})
    index = WorkspaceIndex()
    walk = os.walk

    def walk_then_remove(top: Path) -> Iterator[tuple[str, list[str], list[str]]]:
        for step in walk(top):
            yield step
            index.remove_folder(tmp_path)  # didChangeWorkspaceFolders while scanning

    monkeypatch.setattr(workspace_module.os, "walk", walk_then_remove)
    index.add_folder(tmp_path, background=False)
    assert index.roots == []
    assert index.files() == []


def test_a_folder_opened_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    make_tree(
        real,
        {
            "util/__init__.py": "",
            "util/helpers.py": 'def slugify(text: str) -> str:\n    """Dashes."""\n',
            "app/main.py": "from util.helpers import slugify\n\nslugify(\n",
        },
    )
    link = tmp_path / "link"
    link.symlink_to(real)
    engine = ContextEngine()
    engine.add_workspace_folder(link.as_uri(), background=False)
    uri = (link / "app/main.py").as_uri()
    text = (real / "app/main.py").read_text()
    engine.open(uri, text, "python")
    assert engine.display_path(uri) == "app/main.py"
    snippets = engine.snippets(uri, text, "", "python", "", 512, len)
    assert [snippet.path for snippet in snippets] == ["util/helpers.py"]


def test_reads_follow_the_file_on_disk(tmp_path: Path) -> None:
    make_tree(tmp_path, {"old.py": "def legacy(): ...\n", "cur.py": "def current(x): ...\n"})
    index = WorkspaceIndex(IndexLimits(max_file_bytes=100))
    index.add_folder(tmp_path, background=False)
    old, cur = tmp_path / "old.py", tmp_path / "cur.py"
    assert index.read(old) == "def legacy(): ...\n"
    assert index.read(cur) == "def current(x): ...\n"
    old.unlink()  # e.g. a branch switch, with no watched-file event
    assert index.read(old) is None
    assert indexed(index) == {"cur.py"}
    before = cur.stat().st_mtime
    cur.write_text("def current(x, *, strict=False): ...\n")
    os.utime(cur, (before + 5, before + 5))
    assert index.read(cur) == "def current(x, *, strict=False): ...\n"
    assert index.read(cur) == "def current(x, *, strict=False): ...\n"
    cur.write_text("X = 1\n" * 50)  # grown past the size limit
    assert index.read(cur) is None
    assert indexed(index) == set()
