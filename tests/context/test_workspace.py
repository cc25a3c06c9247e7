"""The workspace index: .gitignore, size limits, refresh on save / watched-file events."""

from __future__ import annotations

from pathlib import Path

from copilot_lsp.context import gitignore
from copilot_lsp.context.engine import ContextEngine
from copilot_lsp.context.workspace import IndexLimits, WorkspaceIndex


def indexed(index: WorkspaceIndex) -> set[str]:
    return {f.relative for f in index.files()}


def make_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_gitignore_rules() -> None:
    rules = gitignore.parse("*.log\n/build/\nsecret?.py\n!keep.log\ndocs/**/gen.py\n")
    assert gitignore.ignored(rules, "a/b.log", is_folder=False)
    assert not gitignore.ignored(rules, "keep.log", is_folder=False)
    assert gitignore.ignored(rules, "build", is_folder=True)
    assert not gitignore.ignored(rules, "src/build", is_folder=True)
    assert not gitignore.ignored(rules, "build", is_folder=False)
    assert gitignore.ignored(rules, "secret1.py", is_folder=False)
    assert gitignore.ignored(rules, "docs/x/y/gen.py", is_folder=False)
    assert not gitignore.ignored(rules, "src/gen.py", is_folder=False)


def test_index_respects_gitignore_size_and_skipped_folders(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            ".gitignore": "generated/\n*_pb2.py\n",
            "app/main.py": "print(1)\n",
            "app/models_pb2.py": "x = 1\n",
            "app/.gitignore": "local.py\n",
            "app/local.py": "y = 2\n",
            "lib/local.py": "z = 3\n",
            "generated/api.py": "a = 1\n",
            "node_modules/dep/index.js": "module.exports = 1\n",
            "web/app.ts": "export const a = 1;\n",
            "big.py": "x = 1\n" * 1000,
            "notes.txt": "not code\n",
        },
    )
    index = WorkspaceIndex(IndexLimits(max_file_bytes=2000))
    index.add_folder(tmp_path)
    index.wait(10)
    assert indexed(index) == {"app/main.py", "lib/local.py", "web/app.ts"}


def test_index_stops_at_the_file_limit(tmp_path: Path) -> None:
    make_tree(tmp_path, {f"m{i}.py": "x = 1\n" for i in range(10)})
    index = WorkspaceIndex(IndexLimits(max_files=4))
    index.add_folder(tmp_path, background=False)
    assert len(index.files()) == 4


def test_save_and_watched_file_events_update_the_index(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a.py": "def old(): ...\n"})
    engine = ContextEngine()
    engine.add_workspace_folder(tmp_path.as_uri(), background=False)
    path = (tmp_path / "a.py").resolve()
    assert engine.workspace.read(path) == "def old(): ...\n"
    path.write_text("def new(): ...\n")
    engine.save(path.as_uri())
    assert engine.workspace.read(path) == "def new(): ...\n"
    created = (tmp_path / "b.py").resolve()
    created.write_text("B = 1\n")
    engine.files_changed([(created.as_uri(), False)])
    assert "b.py" in indexed(engine.workspace)
    created.unlink()
    engine.files_changed([(created.as_uri(), True)])
    assert "b.py" not in indexed(engine.workspace)
    engine.remove_workspace_folder(tmp_path.as_uri())
    assert indexed(engine.workspace) == set()
