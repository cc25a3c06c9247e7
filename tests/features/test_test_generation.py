"""Test generation: symbol at the cursor, layout and framework, cleanup, edits (fake model)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from copilot_lsp.backends.base import CancelToken
from copilot_lsp.features.test_generation import (
    TestGenerationError,
    add_go_imports,
    finish_body,
    generate_tests,
    plan_tests,
    symbol_at,
    to_workspace_edit,
)
from tests.fakes import ScriptedBackend

EXAMPLES = Path(__file__).parents[2] / "examples"
PY = '''import math


def area(radius: float) -> float:
    """Area of a circle."""
    return math.pi * radius ** 2


class Account:
    def deposit(self, amount: int) -> int:
        self.balance = getattr(self, "balance", 0) + amount
        return self.balance
'''


def position(text: str, needle: str) -> tuple[int, int]:
    offset = text.index(needle)
    return text[:offset].count("\n"), offset - text.rfind("\n", 0, offset) - 1


def assert_pytest_passes(folder: Path, target: str | Path) -> subprocess.CompletedProcess[str]:
    """Run pytest on ``target`` in ``folder``; it must pass."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target)],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        ("return math.pi", ("area", "function", None)),
        ("def area", ("area", "function", None)),
        ("self.balance =", ("deposit", "method", "Account")),
        ("class Account", ("Account", "class", None)),
    ],
)
def test_python_symbol_at(needle: str, expected: tuple[str, str, str | None]) -> None:
    symbol = symbol_at(PY, *position(PY, needle), "python")
    assert symbol is not None
    assert (symbol.name, symbol.kind, symbol.container) == expected
    assert symbol.definition.lstrip().startswith(("def", "class"))


def test_python_symbol_at_nothing() -> None:
    assert symbol_at(PY, 0, 0, "python") is None


def test_go_and_js_symbol_at() -> None:
    go = (EXAMPLES / "go" / "wordfreq.go").read_text(encoding="utf-8")
    symbol = symbol_at(go, *position(go, "counts[strings"), "go")
    assert symbol is not None and (symbol.name, symbol.kind) == ("Count", "function")
    store = (EXAMPLES / "go-service" / "store.go").read_text(encoding="utf-8")
    symbol = symbol_at(store, *position(store, "defer rows.Close()"), "go")
    assert symbol is not None and (symbol.name, symbol.container) == ("PinnedNotes", "Store")
    js = (EXAMPLES / "javascript" / "cart.js").read_text(encoding="utf-8")
    symbol = symbol_at(js, *position(js, "item.price * item.quantity"), "javascript")
    assert symbol is not None and (symbol.name, symbol.kind, symbol.container) == (
        "total",
        "method",
        "Cart",
    )
    arrow = "const double = (x) => {\n  return 2 * x;\n};\n"
    symbol = symbol_at(arrow, 1, 4, "javascript")
    assert symbol is not None and symbol.name == "double"


def test_layouts_and_frameworks(tmp_path: Path) -> None:
    def read(path: Path) -> str | None:
        return path.read_text(encoding="utf-8") if path.is_file() else None

    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "geo.py").write_text(PY, encoding="utf-8")
    plan = plan_tests(tmp_path / "pkg" / "geo.py", "python", tmp_path, read)
    assert (plan.framework, plan.test_path, plan.module) == (
        "pytest",
        tmp_path / "pkg" / "test_geo.py",
        "geo",
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_other.py").write_text(
        "import unittest\n\nclass T(unittest.TestCase):\n    pass\n", encoding="utf-8"
    )
    plan = plan_tests(tmp_path / "pkg" / "geo.py", "python", tmp_path, read)
    assert (plan.framework, plan.test_path, plan.module) == (
        "unittest",
        tmp_path / "tests" / "test_geo.py",
        "pkg.geo",
    )
    (tmp_path / "package.json").write_text('{"devDependencies": {"vitest": "^1"}}', "utf-8")
    plan = plan_tests(tmp_path / "cart.ts", "typescript", tmp_path, read)
    assert (plan.framework, plan.test_path.name, plan.module) == (
        "vitest",
        "cart.test.ts",
        "./cart",
    )
    plan = plan_tests(tmp_path / "x" / "wordfreq.go", "go", tmp_path, read)
    assert (plan.framework, plan.test_path.name) == ("go", "wordfreq_test.go")
    with pytest.raises(TestGenerationError):
        plan_tests(tmp_path / "a.rb", "ruby", tmp_path, read)


def test_finish_body_cuts_at_the_end_and_drops_broken_lines() -> None:
    head = "from geo import area\n\n\ndef test_area() -> None:\n"
    raw = "    assert area(1.0) > 3\n    assert area(0.0) == 0\n\ndef test_more():\n    x"
    assert (
        finish_body(raw, "pytest", head) == "    assert area(1.0) > 3\n    assert area(0.0) == 0\n"
    )
    broken = "    assert area(1.0) > 3\n    assert area(2.0 ==\n"
    assert finish_body(broken, "pytest", head) == "    assert area(1.0) > 3\n"
    many = "".join(f"    assert area({n}) >= 0\n" for n in range(9))
    assert finish_body(many, "pytest", head).count("assert") == 5
    js = '  const c = new Cart();\n  assert.equal(c.total(), 0);\n});\n\ntest("x", () => {'
    assert finish_body(js, "node", 'test("t", () => {\n') == (
        "  const c = new Cart();\n  assert.equal(c.total(), 0);\n});\n"
    )
    with pytest.raises(TestGenerationError):
        finish_body("<|endoftext|>", "pytest", head)


def test_go_imports_are_added_for_used_packages() -> None:
    text = 'package p\n\nimport "testing"\n\nfunc TestX(t *testing.T) {\n'
    text += "\treflect.DeepEqual(1, 1)\n}\n"
    fixed = add_go_imports(text)
    assert 'import (\n\t"reflect"\n\t"testing"\n)' in fixed
    assert add_go_imports(fixed) == fixed


def _copy_example(tmp_path: Path, folder: str) -> Path:
    target = tmp_path / folder
    shutil.copytree(EXAMPLES / folder, target)
    return target


def test_generated_pytest_file_imports_and_runs(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "geo.py").write_text(PY, encoding="utf-8")
    backend = ScriptedBackend(
        "    assert area(0.0) == 0.0\n    assert area(1.0) > 3.14\n\n\nx = 1\n"
    )
    result = generate_tests(
        backend, root / "geo.py", PY, *position(PY, "return math.pi"), CancelToken(), root
    )
    assert result.created and result.test_path == root / "test_geo.py"
    assert result.text.startswith("from geo import area\n")
    assert "<|file_sep|>geo.py\n" in backend.prompts[0]
    assert backend.prompts[0].endswith(
        "<|file_sep|>test_geo.py\nfrom geo import area\n\n\ndef test_area() -> None:\n"
    )
    result.test_path.write_text(result.text, encoding="utf-8")
    run = assert_pytest_passes(root, str(result.test_path))
    assert "1 passed" in run.stdout


def test_existing_test_file_gets_an_import_and_a_new_test_as_insertions(tmp_path: Path) -> None:
    folder = _copy_example(tmp_path, "python")
    source = (folder / "textstats.py").read_text(encoding="utf-8")
    old = (folder / "test_textstats.py").read_text(encoding="utf-8")
    old = old.replace("mean, median, word_counts", "mean, word_counts")
    old = old.replace("    assert median(", "    assert mean(")
    (folder / "test_textstats.py").write_text(old, encoding="utf-8")
    backend = ScriptedBackend("    assert median([3.0, 1.0, 2.0]) == 2.0\n")
    result = generate_tests(
        backend,
        folder / "textstats.py",
        source,
        *position(source, "middle = len"),
        CancelToken(),
        folder,
    )
    assert not result.created and result.test_name == "test_median_2"  # test_median exists
    assert result.insertions[0][1] == "from textstats import median\n"
    edit = to_workspace_edit(result, "utf-16", version=3)
    (change,) = edit.document_changes  # type: ignore[misc]
    assert isinstance(change, lsp.TextDocumentEdit) and change.text_document.version == 3
    first, second = change.edits
    assert first.range.start == lsp.Position(line=1, character=0)
    assert second.new_text.startswith("\n\ndef test_median_2() -> None:\n")
    # Applying the insertions to the old text gives the new file, which runs.
    new = old
    for offset, text in reversed(result.insertions):
        new = new[:offset] + text + new[offset:]
    assert new == result.text
    (folder / "test_textstats.py").write_text(new, encoding="utf-8")
    assert_pytest_passes(folder, "test_textstats.py")


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_generated_node_test_runs(tmp_path: Path) -> None:
    folder = _copy_example(tmp_path, "javascript")
    source = (folder / "cart.js").read_text(encoding="utf-8")
    backend = ScriptedBackend(
        '  const cart = new Cart();\n  cart.add("tea", 2, 3);\n'
        "  assert.strictEqual(cart.total(), 6);\n});\n\ntest("
    )
    result = generate_tests(
        backend,
        folder / "cart.js",
        source,
        *position(source, "item.price * item"),
        CancelToken(),
        folder,
    )
    assert result.created and result.test_path.name == "cart.test.js"
    assert 'const { Cart } = require("./cart");' in result.text
    edit = to_workspace_edit(result, "utf-16")
    assert isinstance(edit.document_changes[0], lsp.CreateFile)  # type: ignore[index]
    result.test_path.write_text(result.text, encoding="utf-8")
    run = subprocess.run(
        ["node", "--test", result.test_path.name],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr


SRC = "def double(x):\n    return 2 * x\n\n\ndef triple(x):\n    return 3 * x\n"


def _project(tmp_path: Path, test_file: str, text: str | bytes, source: str = SRC) -> Path:
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "m.py").write_text(source, encoding="utf-8")
    target = tmp_path / test_file
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text, encoding="utf-8")
    return tmp_path


def _apply(text: str, edit: lsp.WorkspaceEdit) -> str:
    """Apply a TextDocumentEdit like a client: positions in the original text (UTF-16)."""
    from copilot_lsp.documents import Document

    (change,) = edit.document_changes  # type: ignore[misc]
    assert isinstance(change, lsp.TextDocumentEdit)
    document = Document("", text)
    spans = []
    for index, item in enumerate(change.edits):
        start, end = item.range.start, item.range.end
        assert start.line < document.line_count and end.line < document.line_count
        begin = document.offset_at(start.line, start.character, "utf-16")
        finish = document.offset_at(end.line, end.character, "utf-16")
        spans.append((begin, finish, index, item.new_text))
    for begin, finish, _, new_text in sorted(spans, reverse=True):
        text = text[:begin] + new_text + text[finish:]
    return text


def _generate(root: Path, answer: str, needle: str = "return 3", source: str = SRC):
    return generate_tests(
        ScriptedBackend(answer),
        root / "m.py",
        source,
        *position(source, needle),
        CancelToken(),
        root,
    )


@pytest.mark.parametrize(
    "old",
    [
        "from m import double\n\n\ndef test_double():\n    assert double(2) == 4\n",
        "from m import double\n\n\ndef test_double():\n    assert double(2) == 4\n\n\n\n",
        "from m import double\n\n\ndef test_double():\n    assert double(2) == 4",
        "# \U0001f600 tests\nfrom m import double\n\n\n"
        "def test_double():\n    assert double(2) == 4\n",
        (
            "from m import (\n    double,\n)\n\n\ndef test_double():\n"
            + "".join(f"    v{n} = {n}\n" for n in range(8))
            + "    assert double(v1) == v2\n"
        ),
    ],
    ids=["plain", "trailing-blank-lines", "no-final-newline", "astral", "long-last-test"],
)
def test_edit_positions_come_from_the_original_text(tmp_path: Path, old: str) -> None:
    root = _project(tmp_path, "test_m.py", old)
    result = _generate(root, "    assert triple(2) == 6\n\n\ndef test_x():\n")
    new = _apply(old, to_workspace_edit(result, "utf-16", version=1))
    assert new == result.text
    assert new.rstrip("\n").endswith("def test_triple() -> None:\n    assert triple(2) == 6")
    old_test = old[old.index("def test_double") :].rstrip("\n")
    assert old_test + "\n\n\n" in new  # the old test is whole, then the new one
    assert new.index("def test_triple") > new.index(old_test)
    (root / "test_m.py").write_text(new, encoding="utf-8")
    assert_pytest_passes(root, "test_m.py")


@pytest.mark.parametrize(
    ("old", "answer"),
    [
        (
            '"""Tests for m.\n\nThe helpers.\n"""\nfrom __future__ import annotations\n\n\n'
            "def test_nothing() -> None:\n    assert True\n",
            "    assert triple(2) == 6\n",
        ),
        (
            '#!/usr/bin/env python\n"""Tests."""\n\nfrom __future__ import annotations\n\n'
            "from unittest import TestCase\n\n\nclass T(TestCase):\n"
            "    def test_nothing(self) -> None:\n        self.assertTrue(True)\n",
            "        self.assertEqual(triple(2), 6)\n",
        ),
        (
            "from __future__ import annotations\n\nfrom helpers import TestCase\n\n\n"
            "class T(TestCase):\n    def test_nothing(self) -> None:\n"
            "        self.assertTrue(True)\n",
            "        self.assertEqual(triple(2), 6)\n",
        ),
    ],
    ids=["docstring-future", "shebang-future-unittest", "framework-testcase"],
)
def test_new_imports_follow_docstring_and_future_imports(
    tmp_path: Path, old: str, answer: str
) -> None:
    root = _project(tmp_path, "test_m.py", old)
    (root / "helpers.py").write_text("from unittest import TestCase\n", encoding="utf-8")
    result = _generate(root, answer)
    new = _apply(old, to_workspace_edit(result, "utf-16"))
    assert new == result.text
    assert "unittest.TestCase" not in new  # the file's own TestCase is used
    assert new.index("from __future__") < new.index("from m import triple")
    compile(new, "test_m.py", "exec", dont_inherit=True)
    (root / "test_m.py").write_text(new, encoding="utf-8")
    assert "2 passed" in assert_pytest_passes(root, "test_m.py").stdout


def test_existing_go_file_gets_a_new_standard_import(tmp_path: Path) -> None:
    source = "package calc\n\nfunc Double(x int) int {\n\treturn 2 * x\n}\n"
    (tmp_path / "go.mod").write_text("module calc\n", encoding="utf-8")
    (tmp_path / "calc.go").write_text(source, encoding="utf-8")
    old = 'package calc\n\nimport "testing"\n\nfunc TestOther(t *testing.T) {\n}\n'
    (tmp_path / "calc_test.go").write_text(old, encoding="utf-8")
    answer = '\tif !reflect.DeepEqual(Double(2), 4) {\n\t\tt.Errorf("bad")\n\t}\n}\n'
    result = generate_tests(
        ScriptedBackend(answer),
        tmp_path / "calc.go",
        source,
        *position(source, "return 2"),
        CancelToken(),
        tmp_path,
    )
    new = _apply(old, to_workspace_edit(result, "utf-16", version=2))
    assert new == result.text
    assert new.startswith('package calc\n\nimport (\n\t"reflect"\n\t"testing"\n)\n\nfunc TestOther')
    assert "func TestDouble(t *testing.T) {" in new


@pytest.mark.parametrize(
    ("framework", "answer"),
    [
        ("node", "  const total = add(1, 2);\n  assert.equal(add(add(1,\n});\n"),
        ("go", "\tgot := Double(2)\n\twant := Double(Double(3\n}\n"),
    ],
)
def test_truncated_brace_answers_are_cut_to_what_parses(framework: str, answer: str) -> None:
    head = 'test("add", () => {\n' if framework == "node" else "func TestDouble(t *testing.T) {\n"
    body = finish_body(answer, framework, head)  # type: ignore[arg-type]
    assert body.splitlines()[-1] in ("});", "}")
    assert "add(add" not in body and "Double(Double" not in body
    with pytest.raises(TestGenerationError, match="did not write a usable test"):
        finish_body("\twant := Double(Double(3\n}\n", "go", head)


def test_python_answers_must_compile() -> None:
    head = "from m import double\n\n\ndef test_double() -> None:\n"
    with pytest.raises(TestGenerationError, match="did not write a usable test"):
        finish_body("    assert await double(2) == 4\n", "pytest", head)
    body = finish_body(
        "    assert double(2) == 4\n    from __future__ import annotations\n", "pytest", head
    )
    assert body == "    assert double(2) == 4\n"


def test_async_target_gets_a_test_that_awaits(tmp_path: Path) -> None:
    source = (
        "import asyncio\n\n\nasync def fetch_double(x: int) -> int:\n"
        "    await asyncio.sleep(0)\n    return 2 * x\n"
    )
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "aio.py").write_text(source, encoding="utf-8")
    result = generate_tests(
        ScriptedBackend("        assert await fetch_double(2) == 4\n\n    asyncio.run(run())\n"),
        tmp_path / "aio.py",
        source,
        *position(source, "return 2"),
        CancelToken(),
        tmp_path,
    )
    assert result.text.startswith("import asyncio\n\nfrom aio import fetch_double\n")
    assert (
        "    async def run() -> None:\n        assert await fetch_double(2) == 4\n" in result.text
    )
    assert result.text.count("asyncio.run(run())") == 1
    result.test_path.write_text(result.text, encoding="utf-8")
    assert "1 passed" in assert_pytest_passes(tmp_path, result.test_path.name).stdout


def test_test_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    root = _project(tmp_path, "test_m.py", b"# caf\xe9\nfrom m import double\n")
    with pytest.raises(TestGenerationError, match="not valid UTF-8"):
        _generate(root, "    assert triple(2) == 6\n")
