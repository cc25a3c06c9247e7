"""Inline test completion: test files, the test at the cursor, definitions under test."""

from __future__ import annotations

import pytest

from copilot_lsp.context.test_subject import (
    current_test,
    definitions_under_test,
    find_definition,
    is_test_file,
    js_imports,
    python_imports,
)

MODULE = '''import math


def mean(values: list[float]) -> float:
    """Arithmetic mean."""
    return sum(values) / len(values)


class Stats:
    def spread(self) -> float:
        return 0.0
'''


@pytest.mark.parametrize(
    "name",
    [
        "test_x.py",
        "x_test.py",
        "x_test.go",
        "cart.test.js",
        "a.test.ts",
        "a.spec.ts",
        "FooTest.java",
    ],
)
def test_test_files_are_recognised(name: str) -> None:
    assert is_test_file(f"/p/{name}")


@pytest.mark.parametrize("name", ["x.py", "testing.py", "x.go", "cart.js", "Foo.java"])
def test_other_files_are_not(name: str) -> None:
    assert not is_test_file(name)


def test_python_current_test_inside_and_outside() -> None:
    prefix = "from stats import mean\n\n\ndef test_mean():\n    assert mean([1.0]) == 1.0\n    "
    assert (
        current_test(
            prefix,
            "python",
        )
        is not None
    )
    assert current_test("from stats import mean\n\nx = 1\n", "python") is None
    assert current_test("def test_a():\n    pass\n\n\nx = mean(", "python") is None


def test_go_and_js_current_test() -> None:
    assert current_test('func TestCount(t *testing.T) {\n\tgot := Count("a")\n\t', "go")
    assert current_test("func TestCount(t *testing.T) {\n}\n\n", "go") is None
    assert current_test('test("total", () => {\n  expect(', "javascript")
    assert current_test('test("total", () => {\n  x();\n});\n', "javascript") is None


def test_imports_are_read() -> None:
    source = "from stats import mean as average, Stats\nimport os.path\n"
    found = {(i.name, i.original, i.module) for i in python_imports(source)}
    assert found == {
        ("average", "mean", "stats"),
        ("Stats", "Stats", "stats"),
        ("os.path", "*", "os.path"),
    }
    js = 'const { Cart } = require("./cart");\nimport { total as t } from "../lib/total";\n'
    js += 'const lodash = require("lodash");\n'
    assert {(i.name, i.original, i.module) for i in js_imports(js)} == {
        ("Cart", "Cart", "./cart"),
        ("t", "total", "../lib/total"),
    }


def test_find_definition_per_language() -> None:
    assert find_definition(MODULE, "mean", "python").startswith("def mean(values")  # type: ignore[union-attr]
    assert find_definition(MODULE, "Stats", "python").startswith("class Stats:")  # type: ignore[union-attr]
    assert find_definition(MODULE, "nothing", "python") is None
    go = "package p\n\n// Count counts.\nfunc Count(s string) int {\n\treturn len(s)\n}\n"
    go += "\nfunc x() {}\n"
    assert find_definition(go, "Count", "go") == (
        "// Count counts.\nfunc Count(s string) int {\n\treturn len(s)\n}"
    )
    js = "class Cart {\n  total() {\n    return 1;\n  }\n}\n\nmodule.exports = { Cart };\n"
    assert find_definition(js, "Cart", "javascript") == js.split("\n\nmodule")[0]


def test_definitions_under_test_come_the_function_under_test_from_its_module() -> None:
    test = "from stats import mean\n\n\ndef test_mean():\n    assert mean([2.0, 4.0]) == 3.0\n    "
    asked: list[str] = []

    def read(spec: str) -> str | None:
        asked.append(spec)
        return MODULE if spec == "stats" else None

    ((module, definition),) = definitions_under_test(test, "python", read)
    assert asked == ["stats"] and module == "stats"
    assert definition.startswith("def mean(values: list[float])")
    assert "    return sum(values) / len(values)" in definition
    # Outside a test function: nothing.
    assert definitions_under_test("from stats import mean\n", "python", read) == []


def test_definitions_under_test_for_go_reads_the_package() -> None:
    package = "package p\n\nfunc Count(s string) int {\n\treturn len(s)\n}\n"
    test = 'package p\n\nfunc TestCount(t *testing.T) {\n\tif Count("ab") != 2 {\n\t\tt.Fatal()\n'
    test += "\t}\n\t"
    found = definitions_under_test(test, "go", lambda spec: package if spec == "." else None)
    assert found == [(".", "func Count(s string) int {\n\treturn len(s)\n}")]
