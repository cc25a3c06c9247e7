"""Multi-root workspaces: files are told apart by where they are, not by their
workspace-relative path, which two folders may share (``a/src/util.py``, ``b/src/util.py``)."""

from __future__ import annotations

from pathlib import Path

from copilot_lsp.context.engine import ContextEngine
from copilot_lsp.context.feature_snippets import SchemaTables
from copilot_lsp.context.similar import SimilarWindows

UTIL_A = "def parse_config(path):\n    return load_yaml(path)\n"
UTIL_B = (
    UTIL_A + "\n\ndef parse_strict(path, schema):\n    return validate(load_yaml(path), schema)\n"
)
"""Folder b's copy of util.py: a's plus one function (a vendored, extended copy)."""


def two_folders(tmp_path: Path, engine: ContextEngine) -> tuple[str, str]:
    """Folders ``a`` and ``b`` with the same ``src/util.py`` path, both open; their URIs."""
    uris = []
    for folder, text in (("a", UTIL_A), ("b", UTIL_B)):
        path = tmp_path / folder / "src" / "util.py"
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
        engine.add_workspace_folder(str(tmp_path / folder), background=False)
        engine.open(path.as_uri(), text, "python")
        uris.append(path.as_uri())
    return uris[0], uris[1]


def test_the_same_relative_path_in_another_folder_is_not_the_current_file(
    tmp_path: Path,
) -> None:
    engine = ContextEngine(providers=[SimilarWindows()])
    uri_a, _ = two_folders(tmp_path, engine)
    chosen = engine.snippets(uri_a, UTIL_A, "", "python", "", 1000, len)
    assert [(s.path, s.text) for s in chosen] == [("src/util.py", UTIL_B)]
    assert chosen[0].file == str((tmp_path / "b/src/util.py").resolve())


def test_files_with_the_same_relative_path_both_reach_the_context(tmp_path: Path) -> None:
    engine = ContextEngine(providers=[SimilarWindows()])
    two_folders(tmp_path, engine)
    indexed = sorted((f.root.name, f.relative) for f in engine.workspace.files())
    assert indexed == [("a", "src/util.py"), ("b", "src/util.py")]
    main = tmp_path / "a" / "src" / "main.py"
    text = "from util import parse_config\n\nconfig = parse_config(path)\n"
    engine.open(main.as_uri(), text, "python")
    chosen = engine.snippets(main.as_uri(), text, "", "python", "", 1000, len)
    # b's copy contains a's text: still another file, so it does not replace a's snippet.
    assert sorted(s.text for s in chosen) == [UTIL_A, UTIL_B]
    assert sorted(s.file for s in chosen) == [
        str((tmp_path / folder / "src/util.py").resolve()) for folder in ("a", "b")
    ]
    assert {s.path for s in chosen} == {"src/util.py"}


def test_the_current_file_own_schema_is_still_left_out(tmp_path: Path) -> None:
    schema = "CREATE TABLE users (id INTEGER, name TEXT);\n"
    own_text = f"SCHEMA = '''{schema}'''\ncur.execute(\"SELECT * FROM users JOIN orders "
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "db.py").write_text(own_text, encoding="utf-8")
    (tmp_path / "b" / "schema.sql").write_text("CREATE TABLE orders (id INTEGER);\n")
    engine = ContextEngine(providers=[SchemaTables(first_wait_seconds=5.0)])
    for folder in ("a", "b"):
        engine.add_workspace_folder(str(tmp_path / folder), background=False)
    own = (tmp_path / "b" / "db.py").as_uri()
    engine.open(own, own_text, "python")
    chosen = engine.snippets(own, own_text, "", "python", "", 1000, len)
    assert [(s.path, s.file) for s in chosen] == [
        ("schema.sql", str((tmp_path / "b" / "schema.sql").resolve()))
    ]
