"""Imports resolved to definitions on the examples/ projects (Python, JS, TS, Go)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from copilot_lsp.context.engine import ContextEngine
from copilot_lsp.context.imports import ImportedDefinitions

EXAMPLES = Path(__file__).parents[2] / "examples"


def snippets_at(folder: Path, file: str, anchor: str, language: str) -> list:
    """Import snippets for a cursor right after ``anchor`` in ``file`` (folder indexed)."""
    engine = ContextEngine(providers=[ImportedDefinitions()])
    engine.add_workspace_folder(str(folder), background=False)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    cursor = text.index(anchor) + len(anchor)
    uri = path.resolve().as_uri()
    engine.open(uri, text, language)
    return engine.snippets(uri, text[:cursor], text[cursor:], language, "", 2000, len)


def test_python_from_import_resolves_to_signatures_and_docstrings() -> None:
    found = snippets_at(EXAMPLES / "python", "test_textstats.py", "assert median(", "python")
    by_text = {s.text.split("\n")[0]: s for s in found}
    assert {s.path for s in found} == {"textstats.py"}
    median = next(s for s in found if s.text.startswith("def median"))
    assert "def median(values: list[float]) -> float:" in median.text
    # The name used on the cursor line ranks first: it is placed last (nearest the cursor).
    assert found[-1] is median
    assert len(by_text) == len(found)


def test_javascript_require_resolves_the_class_and_its_methods() -> None:
    found = snippets_at(EXAMPLES / "javascript", "checkout.js", "cart.add(", "javascript")
    assert [s.path for s in found] == ["cart.js"]
    cart = found[0].text
    assert cart.startswith("class Cart {")
    assert "add(name, price, quantity = 1);" in cart and "total();" in cart


def test_typescript_named_imports_resolve_with_doc_comments() -> None:
    found = snippets_at(EXAMPLES / "typescript", "src/order.ts", "formatPrice(", "typescript")
    texts = {s.text for s in found}
    assert all(s.path == "src/pricing.ts" for s in found)
    assert any(
        t.startswith("/** Apply a percentage discount")
        and "export function discount(price: Price, percent: number): Price" in t
        for t in texts
    )
    assert any("export interface Price" in t and "cents: number;" in t for t in texts)
    assert any("formatPrice" in t for t in texts)


def test_go_module_imports_and_package_siblings() -> None:
    report = snippets_at(EXAMPLES / "go", "report/report.go", "wordfreq.Top(", "go")
    names = {s.text.split("\n")[1] if s.text.startswith("//") else s.text for s in report}
    assert {s.path for s in report} == {"wordfreq.go", "top.go"}
    assert any(n.startswith("func Count(text string) map[string]int") for n in names)
    sibling = snippets_at(EXAMPLES / "go", "top.go", "range Count(", "go")
    assert [s.path for s in sibling] == ["wordfreq.go"]
    assert sibling[0].text.startswith("// Count returns how often")


def test_unresolvable_imports_give_nothing(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("import os\nfrom json import loads\nloads(os.sep)\n")
    assert snippets_at(tmp_path, "main.py", "loads(", "python") == []


def test_relative_and_submodule_imports(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "shapes.py").write_text(
        "class Circle:\n    '''A circle.'''\n\n    def __init__(self, r):\n        self.r = r\n\n"
        "    def area(self):\n        return 3.14 * self.r ** 2\n\n    def _hidden(self):\n"
        "        pass\n"
    )
    (package / "user.py").write_text(
        "from .sub import shapes\nfrom .sub.shapes import Circle as C\n\n"
        "def go():\n    c = C(1)\n    return shapes.Circle(2).area()\n"
    )
    found = snippets_at(tmp_path, "pkg/user.py", "shapes.Circle(", "python")
    assert [s.path for s in found] == ["pkg/sub/shapes.py"]
    text = found[0].text
    assert "class Circle:" in text and "def area(self):" in text and "_hidden" not in text


def test_imports_are_found_while_an_unclosed_bracket_breaks_the_parse(tmp_path: Path) -> None:
    """A line cut after ``strip_control_codes(`` in rich's text.py wraps the whole module,
    imports included, in one ERROR node; the imports must still be read."""
    import rich

    from copilot_lsp.syntax import ParsedDocument

    source = Path(rich.__file__).parent
    package = tmp_path / "rich"
    package.mkdir()
    (package / "__init__.py").write_text("")
    shutil.copyfile(source / "control.py", package / "control.py")
    text = (source / "text.py").read_text(encoding="utf-8")
    anchor = "content = strip_control_codes("
    start = text.index(anchor) + len(anchor)
    cut = text[:start] + text[text.index("\n", start) :]
    (package / "text.py").write_text(cut, encoding="utf-8")
    root = ParsedDocument(cut, "python").tree.root_node
    if "ERROR" not in [child.type for child in root.named_children]:
        pytest.skip("this tree-sitter-python version recovers without a top-level ERROR")
    found = snippets_at(tmp_path, "rich/text.py", anchor, "python")
    assert "rich/control.py" in {s.path for s in found}
    assert any(s.text.startswith("def strip_control_codes(") for s in found)


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_javascript_import_with_an_explicit_extension(tmp_path: Path) -> None:
    """``./cart.js`` (the ES-module style) names the file itself."""
    _write(
        tmp_path,
        {
            "cart.js": "export function addItem(cart, item) {\n  return [...cart, item];\n}\n",
            "main.mjs": "import { addItem } from './cart.js';\n\naddItem(",
        },
    )
    found = snippets_at(tmp_path, "main.mjs", "addItem(", "javascript")
    assert [s.path for s in found] == ["cart.js"]
    assert found[0].text.startswith("export function addItem(cart, item)")


@pytest.mark.parametrize(
    ("source", "module"),
    [("money.ts", "./money.js"), ("money.tsx", "./money.js"), ("money.tsx", "./money.jsx")],
)
def test_typescript_import_of_the_emitted_js_resolves_to_the_source(
    tmp_path: Path, source: str, module: str
) -> None:
    """TypeScript (NodeNext) imports ``./money.js`` for the file ``money.ts``."""
    _write(
        tmp_path,
        {
            f"src/{source}": "export function formatPrice(cents: number): string {\n"
            "  return `$${cents / 100}`;\n}\n",
            "src/main.ts": f"import {{ formatPrice }} from '{module}';\n\nformatPrice(",
        },
    )
    found = snippets_at(tmp_path, "src/main.ts", "formatPrice(", "typescript")
    assert [s.path for s in found] == [f"src/{source}"]
    assert "formatPrice(cents: number): string" in found[0].text


@pytest.mark.parametrize(
    ("module_text", "expected"),
    [
        (
            "export default function area(w, h) {\n  return w * h;\n}\n"
            "export function perimeter(w, h) {\n  return 2 * (w + h);\n}\n",
            "export default function area(w, h) {",
        ),
        ("export default class Shape {\n  area() {}\n}\n", "export default class Shape {"),
        (
            "function area(w, h) {\n  return w * h;\n}\n"
            "function other() {}\nexport default area;\n",
            "function area(w, h) {",
        ),
        ("const area = (w, h) => w * h;\nexport { area as default };\n", "const area = "),
        ("export default function (w, h) {\n  return w * h;\n}\n", "export default function ("),
    ],
)
def test_default_import_resolves_to_the_export_default(
    tmp_path: Path, module_text: str, expected: str
) -> None:
    _write(tmp_path, {"shapes.js": module_text})
    for main in (
        "import area from './shapes';\n\narea(",
        "import area from './shapes.js';\n\narea(",
        "import { default as area } from './shapes';\n\narea(",
    ):
        (tmp_path / "main.js").write_text(main, encoding="utf-8")
        found = snippets_at(tmp_path, "main.js", "area(", "javascript")
        assert [s.path for s in found] == ["shapes.js"], main
        assert found[0].text.startswith(expected), main


HELPERS_PY = (
    "def parse(text):\n    return text.split(',')\n\n\n"
    "def render(items):\n    return ', '.join(items)\n"
)


@pytest.mark.parametrize(
    ("local", "shadowed"),
    [
        ("def parse(text):\n    return text.split()\n", True),
        ("@cache\ndef parse(text):\n    return text.split()\n", True),
        ("class parse:\n    pass\n", True),
        ("parse = str.split\n", True),
        ("parse: Callable = str.split\n", True),
        ("parse = cache(parse)\n", False),  # wraps the imported one: still what runs
        ("def other():\n    parse = str.split\n", False),  # a local of a function
    ],
)
def test_a_later_top_level_binding_shadows_a_python_import(
    tmp_path: Path, local: str, shadowed: bool
) -> None:
    main = f"from helpers import parse, render\n\n{local}\n\nrender(parse("
    _write(tmp_path, {"helpers.py": HELPERS_PY, "main.py": main})
    found = snippets_at(tmp_path, "main.py", "render(parse(", "python")
    names = sorted(s.text.split("(")[0] for s in found)
    assert names == (["def render"] if shadowed else ["def parse", "def render"])


def test_a_python_definition_before_the_import_is_replaced_by_it(tmp_path: Path) -> None:
    main = "def parse(text):\n    return text\n\n\nfrom helpers import parse\n\nparse("
    _write(tmp_path, {"helpers.py": HELPERS_PY, "main.py": main})
    found = snippets_at(tmp_path, "main.py", "\nparse(", "python")
    assert [s.text.split("\n")[1] for s in found] == ["    return text.split(',')"]


def test_a_shadowed_python_module_import(tmp_path: Path) -> None:
    main = "import helpers\n\nhelpers = Helpers()\n\nhelpers.parse("
    _write(tmp_path, {"helpers.py": HELPERS_PY, "main.py": main})
    assert snippets_at(tmp_path, "main.py", "helpers.parse(", "python") == []


HELPERS_JS = (
    "export function parse(text) {\n  return text.split(',');\n}\n"
    "export function render(items) {\n  return items.join(', ');\n}\n"
)


@pytest.mark.parametrize(
    ("imports", "local", "shadowed"),
    [
        ("import { parse, render } from './helpers';", "function parse(t) { return t; }", True),
        ("import { parse, render } from './helpers';", "export class parse {}", True),
        ("let { parse, render } = require('./helpers');", "parse = (t) => t.trim();", True),
        ("var { parse, render } = require('./helpers');", "var parse = (t) => t;", True),
        ("let { parse, render } = require('./helpers');", "parse = memo(parse);", False),
        ("import { parse, render } from './helpers';", "const parsed = parse(x);", False),
    ],
)
def test_a_later_top_level_binding_shadows_a_javascript_import(
    tmp_path: Path, imports: str, local: str, shadowed: bool
) -> None:
    main = f"{imports}\n\n{local}\n\nrender(parse("
    _write(tmp_path, {"helpers.js": HELPERS_JS, "main.ts": main})
    found = snippets_at(tmp_path, "main.ts", "render(parse(", "typescript")
    names = sorted(s.text.split("(")[0] for s in found)
    expected = ["export function parse", "export function render"]
    assert names == (expected[1:] if shadowed else expected)


# --- the import list is read once per syntax tree ----------------------------------------

MODULE = "import os\nfrom pathlib import Path as P\n\n\ndef f(x):\n    return os.sep\n"


def test_requests_on_the_same_version_read_the_imports_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from copilot_lsp.context import imports

    scans: list[int] = []
    real = imports.imports_of
    monkeypatch.setattr(imports, "imports_of", lambda doc: scans.append(1) or real(doc))
    engine = ContextEngine(providers=[ImportedDefinitions()])
    uri = (tmp_path / "main.py").as_uri()
    engine.open(uri, MODULE, "python", 1)
    for _ in range(3):
        engine.snippets(uri, MODULE, "", "python", "", 2000, len)
    assert len(scans) == 1
    text = "import json\n" + MODULE
    engine.change(uri, text, 2)
    engine.snippets(uri, text, "", "python", "", 2000, len)
    assert len(scans) == 2


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ("import json\n" + MODULE, ["json", "os", "P"]),
        (MODULE.replace("import os\n", ""), ["P"]),
        (MODULE.replace("Path as P", "Path as Q"), ["os", "Q"]),
        (MODULE + "P = 1\n", ["os"]),
        (MODULE * 3, ["os", "P"]),  # each import once, however often the file repeats it
    ],
)
def test_the_next_read_after_an_edit_sees_the_new_imports(after: str, expected: list) -> None:
    from copilot_lsp.context.imports import live_imports
    from copilot_lsp.syntax import ParsedDocument

    document = ParsedDocument(MODULE, "python")
    assert [item.local for item in live_imports(document)] == ["os", "P"]
    document.update(after)
    assert [item.local for item in live_imports(document)] == expected
