"""Unit-test generation (`copilot.generateTests`): a test for the symbol at the cursor.

Steps: find the function/method at the cursor (:func:`symbol_at`), follow the project's
layout and framework (:func:`plan_tests`: pytest or unittest, Go ``testing``, Jest, Vitest
or ``node:test``), prompt the model with the module and the test file in Qwen2.5-Coder's
repository format ending in a test header, cut the answer where the test ends, check it
parses, and describe the change as an edit (:class:`GeneratedTests`; ``to_workspace_edit``
turns it into an LSP ``WorkspaceEdit``).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import tree_sitter_python
from lsprotocol import types as lsp
from pygls.uris import from_fs_path
from tree_sitter import Language, Node, Parser

from copilot_lsp.backends.base import Backend, CancelToken, GenerationOptions
from copilot_lsp.documents import Document
from copilot_lsp.postprocess import cut_at_markers
from copilot_lsp.prompt.fim import QWEN25_CODER
from copilot_lsp.syntax import parser_for, utf8

Framework = Literal["pytest", "unittest", "go", "jest", "vitest", "node"]
ReadText = Callable[[Path], str | None]
MAX_SOURCE_CHARS = 5000
MAX_TEST_CONTEXT_CHARS = 2500
DEFAULT_MAX_NEW_TOKENS = 320

_PYTHON = Language(tree_sitter_python.language())


class TestGenerationError(ValueError):
    """No test can be generated here; the message says why (shown to the user)."""

    __test__ = False  # not a pytest test class


@dataclass(frozen=True)
class Symbol:
    name: str
    kind: Literal["function", "method", "class"]
    container: str | None
    """The class a method belongs to."""
    definition: str
    language: str

    @property
    def importable(self) -> str:
        """The top-level name a test imports (the class for a method)."""
        return self.container or self.name


@dataclass(frozen=True)
class TestPlan:
    language: str
    framework: Framework
    test_path: Path
    module: str
    """How the test file imports the code: a dotted module, a relative JS path, or ""."""
    existing: str | None
    """The test file's current text (None: the file is created)."""


@dataclass
class GeneratedTests:
    test_path: Path
    created: bool
    text: str
    """The whole test file after the change."""
    insertions: list[tuple[int, str]] = field(default_factory=list)
    """(offset in the old text, text to insert) for an existing file, in order."""
    test_name: str = ""
    raw: str = ""
    replaced: str | None = None
    """When set, the edit replaces this whole old text of the file with ``text``."""
    original: str = ""
    """The test file's text before the change: ``insertions`` offsets point into it."""


def read_file(path: Path) -> str | None:
    """The file's text; None when it does not exist. A file that is not UTF-8 is an error
    (treating it as missing would write a new file over it)."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TestGenerationError(f"{path.name} is not valid UTF-8") from None
    except OSError:
        return None


def _read_or_empty(read: ReadText, path: Path) -> str:
    """A file that only hints at the layout: unreadable counts as empty."""
    try:
        return read(path) or ""
    except TestGenerationError:
        return ""


def open_test_document(get: Callable[[str], Document | None], path: Path) -> Document | None:
    """The editor's open document for ``path``, looked up by ``get`` (URI -> document) under
    the path as given (the editor's spelling) and with symlinks resolved."""
    for candidate in dict.fromkeys((path.absolute(), _resolved(path))):
        for uri in dict.fromkeys((candidate.as_uri(), from_fs_path(str(candidate)))):
            document = get(uri) if uri else None
            if document is not None:
                return document
    return None


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def is_async(symbol: Symbol) -> bool:
    """Whether the function or method is a coroutine (an async JS function returns a Promise)."""
    if symbol.kind == "class":
        return False
    first = symbol.definition.lstrip().split("\n", 1)[0]
    if symbol.language == "python":
        return first.startswith("async ")
    return bool(re.match(r"[^{]*?\basync\b", first))


def language_of(path: Path) -> str:
    suffix = path.suffix.lower()
    return {".py": "python", ".go": "go", ".ts": "typescript", ".tsx": "typescript"}.get(
        suffix, "javascript" if suffix in (".js", ".mjs", ".cjs", ".jsx") else ""
    )


# -- the symbol at the cursor ------------------------------------------------------------


def _name(node: Node) -> str:
    name = node.child_by_field_name("name")
    return name.text.decode(errors="replace") if name is not None and name.text is not None else ""


def _text(node: Node) -> str:
    return node.text.decode(errors="replace") if node.text is not None else ""


def _python_symbol(source: str, line: int, column: int) -> Symbol | None:
    """The top-level function or class at the cursor; for a class, the method at it."""
    tree = Parser(_PYTHON).parse(utf8(source))
    node: Node | None = tree.root_node.descendant_for_point_range((line, column), (line, column))
    chain: list[Node] = []
    while node is not None:
        chain.append(node)
        node = node.parent
    definitions = [
        n for n in reversed(chain) if n.type in ("function_definition", "class_definition")
    ]
    if not definitions:
        return None
    outer = definitions[0]
    if outer.type == "function_definition":
        name = _name(outer)
        return (
            None if name.startswith("_") else Symbol(name, "function", None, _text(outer), "python")
        )
    methods = definitions[1:2]
    if (
        methods
        and methods[0].type == "function_definition"
        and not _name(methods[0]).startswith("_")
    ):
        method = methods[0]
        return Symbol(_name(method), "method", _name(outer), _text(method), "python")
    return Symbol(_name(outer), "class", None, _text(outer), "python")


_GO_FUNC = re.compile(r"^func\s+(?:\(\s*\w*\s*\*?(?P<recv>\w+)[^)]*\)\s*)?(?P<name>\w+)\s*\(", re.M)
_JS_DEFS = re.compile(
    r"^(?P<indent>[ \t]*)(?:export\s+)?(?:default\s+)?(?:async\s+)?"
    r"(?:function\s*\*?\s*(?P<function>\w+)\s*\(|class\s+(?P<class>\w+)|"
    r"(?:const|let|var)\s+(?P<arrow>\w+)\s*=\s*(?:async\s*)?(?:function\b|\([^)]*\)\s*=>|\w+\s*=>)|"
    r"(?:static\s+|async\s+)*(?P<method>(?!if\b|for\b|while\b|switch\b|catch\b)\w+)\s*\([^)]*\)\s*\{)",
    re.M,
)


def _brace_span(source: str, start: int) -> int:
    depth = 0
    seen = False
    for index in range(source.find("{", start), len(source)):
        if index < 0:
            break
        char = source[index]
        if char == "{":
            depth, seen = depth + 1, True
        elif char == "}":
            depth -= 1
            if seen and depth == 0:
                return index + 1
    return len(source)


def _brace_symbol(source: str, offset: int, language: str) -> Symbol | None:
    best: Symbol | None = None
    if language == "go":
        for match in _GO_FUNC.finditer(source):
            end = _brace_span(source, match.end())
            if match.start() <= offset <= end:
                kind = "method" if match.group("recv") else "function"
                return Symbol(
                    match.group("name"),
                    kind,
                    match.group("recv"),
                    source[match.start() : end],
                    "go",
                )
        return None
    enclosing_class: tuple[str, int, int] | None = None
    for match in _JS_DEFS.finditer(source):
        end = _brace_span(source, match.end() - 1)
        if not match.start() <= offset <= end:
            continue
        text = source[match.start() : end]
        if match.group("class"):
            enclosing_class = (match.group("class"), match.start(), end)
            best = Symbol(match.group("class"), "class", None, text, language)
        elif match.group("method") and enclosing_class is not None:
            name = match.group("method")
            if name != "constructor":
                return Symbol(name, "method", enclosing_class[0], text, language)
        elif match.group("function") or match.group("arrow"):
            name = match.group("function") or match.group("arrow")
            return Symbol(name, "function", None, text, language)
    return best


def symbol_at(source: str, line: int, column: int, language: str) -> Symbol | None:
    """The function, method or class at (0-based line, code-point column), or None."""
    if language == "python":
        return _python_symbol(source, line, column)
    lines = source.split("\n")
    offset = sum(len(text) + 1 for text in lines[:line]) + column
    return _brace_symbol(source, offset, language)


# -- the project's layout and framework --------------------------------------------------


def _project_root(path: Path, workspace: Path | None) -> Path:
    markers = ("pyproject.toml", "setup.py", "setup.cfg", "package.json", "go.mod", ".git")
    for directory in [path.parent, *path.parent.parents]:
        if any((directory / marker).exists() for marker in markers):
            return directory
        if workspace is not None and directory == workspace:
            return directory
    return path.parent


def _python_plan(path: Path, root: Path, read: ReadText) -> TestPlan:
    name = f"test_{path.stem}.py"
    candidates = [path.parent / name]
    for folder in ("tests", "test"):
        if (root / folder).is_dir():
            candidates.insert(0, root / folder / name)
    test_path = next((c for c in candidates if c.is_file()), candidates[0])
    siblings = list(test_path.parent.glob("test_*.py"))[:20] if test_path.parent.is_dir() else []
    texts = [_read_or_empty(read, p) for p in siblings]
    unittest_style = any("unittest.TestCase" in t or "(TestCase)" in t for t in texts)
    pytest_style = any(re.search(r"^def test_", t, re.M) for t in texts)
    framework: Framework = "unittest" if unittest_style and not pytest_style else "pytest"
    # Import path: the module relative to the project root (or to src/), else its stem.
    base = root / "src" if (root / "src").is_dir() and root / "src" in path.parents else root
    if test_path.parent == path.parent:
        module = path.stem
    else:
        relative = path.with_suffix("").relative_to(base)
        module = ".".join(relative.parts)
    return TestPlan("python", framework, test_path, module, read(test_path))


def _js_plan(path: Path, root: Path, language: str, read: ReadText) -> TestPlan:
    package = {}
    try:
        package = json.loads(_read_or_empty(read, root / "package.json") or "{}")
    except json.JSONDecodeError:
        package = {}
    dependencies = {**package.get("dependencies", {}), **package.get("devDependencies", {})}
    framework: Framework = (
        "vitest" if "vitest" in dependencies else "jest" if "jest" in dependencies else "node"
    )
    extension = path.suffix
    name = f"{path.stem}.test{extension}"
    candidates = [path.parent / name, path.parent / "__tests__" / name]
    test_path = next((c for c in candidates if c.is_file()), candidates[0])
    module = "./" + path.stem if test_path.parent == path.parent else "../" + path.stem
    return TestPlan(language, framework, test_path, module, read(test_path))


def plan_tests(path: Path, language: str, workspace: Path | None, read: ReadText) -> TestPlan:
    root = _project_root(path, workspace)
    if language == "python":
        return _python_plan(path, root, read)
    if language == "go":
        test_path = path.with_name(f"{path.stem}_test.go")
        return TestPlan("go", "go", test_path, "", read(test_path))
    if language in ("javascript", "typescript"):
        return _js_plan(path, root, language, read)
    raise TestGenerationError(f"test generation does not support {language or path.suffix} files")


# -- the test file's header and the test's first line -------------------------------------


def _uses_esm(source: str) -> bool:
    return bool(re.search(r"^\s*(import|export)\s", source, re.M))


def _exported(source: str, name: str) -> bool:
    return bool(
        re.search(rf"module\.exports\s*=\s*\{{[^}}]*\b{name}\b", source)
        or re.search(rf"exports\.{name}\s*=", source)
        or re.search(
            rf"^export\s+(default\s+)?(async\s+)?(function|class|const|let)\s*\*?\s*{name}\b",
            source,
            re.M,
        )
        or re.search(rf"^export\s*\{{[^}}]*\b{name}\b", source, re.M)
    )


def import_line(plan: TestPlan, symbol: Symbol, source: str) -> str:
    name = symbol.importable
    if plan.language == "python":
        return f"from {plan.module} import {name}"
    if plan.language == "go":
        return ""
    if _uses_esm(source) or plan.framework == "vitest":
        return f'import {{ {name} }} from "{plan.module}";'
    return f'const {{ {name} }} = require("{plan.module}");'


def file_header(plan: TestPlan, symbol: Symbol, source: str, package: str) -> str:
    """The first lines of a new test file."""
    imports = import_line(plan, symbol, source)
    if plan.language == "python":
        standard = ["asyncio"] if is_async(symbol) else []
        standard += ["unittest"] if plan.framework == "unittest" else []
        block = "".join(f"import {name}\n" for name in standard)
        return f"{block}\n{imports}\n" if block else f"{imports}\n"
    if plan.framework == "go":
        return f'package {package}\n\nimport "testing"\n'
    esm = _uses_esm(source) or plan.framework == "vitest"
    if plan.framework == "vitest":
        return f'import {{ describe, expect, test }} from "vitest";\n{imports}\n'
    if plan.framework == "jest":
        return f"{imports}\n"
    if esm:
        return (
            'import { test } from "node:test";\nimport assert from "node:assert/strict";\n'
            f"{imports}\n"
        )
    return (
        'const test = require("node:test");\nconst assert = require("node:assert/strict");\n'
        f"{imports}\n"
    )


def _test_name(symbol: Symbol, existing: str) -> str:
    base = f"{symbol.container}_{symbol.name}" if symbol.container else symbol.name
    if symbol.kind == "class":
        base = symbol.name
    go_style = base[0].upper() + base[1:].replace("_", "")
    for attempt in range(1, 100):
        suffix = "" if attempt == 1 else f"_{attempt}"
        candidate = f"test_{base}{suffix}"
        if (
            f"def {candidate}(" not in existing
            and f"Test{go_style}{suffix.replace('_', '')}(" not in existing
        ):
            return candidate
    return f"test_{base}_generated"


ASYNC_RUNNER = "run"
"""The inner coroutine of a Python test for an async target; the test ends with
``asyncio.run(run())`` (works with plain pytest and unittest, no plugin needed)."""


def test_header(
    plan: TestPlan,
    test_name: str,
    indent_class: bool,
    asynchronous: bool = False,
    base_class: str = "unittest.TestCase",
) -> str:
    """The test's opening line(s); the model writes the body after them."""
    if plan.framework in ("pytest", "unittest"):
        indent = "    " if plan.framework == "unittest" else ""
        self_arg = "self" if plan.framework == "unittest" else ""
        header = f"{indent}def {test_name}({self_arg}) -> None:\n"
        if asynchronous:
            header += f"{indent}    async def {ASYNC_RUNNER}() -> None:\n"
        if plan.framework == "pytest" or indent_class:
            return header
        camel = "".join(part.capitalize() for part in test_name.split("_"))
        return f"class {camel}({base_class}):\n{header}"
    if plan.framework == "go":
        camel = "".join(part[:1].upper() + part[1:] for part in test_name.split("_"))
        return f"func {camel}(t *testing.T) {{\n"
    label = test_name.removeprefix("test_").replace("_", ".")
    arrow = "async () =>" if asynchronous else "() =>"
    return f'test("{label}", {arrow} {{\n'


def async_trailer(plan: TestPlan) -> str:
    """What closes a Python test for an async target: running its inner coroutine."""
    indent = "        " if plan.framework == "unittest" else "    "
    return f"\n{indent}asyncio.run({ASYNC_RUNNER}())\n"


def body_indent(framework: Framework, asynchronous: bool) -> int:
    """The smallest indent of the generated body (a line indented less ends it)."""
    if framework not in ("pytest", "unittest"):
        return 1
    return (8 if framework == "unittest" else 4) + (4 if asynchronous else 0)


# -- prompt, generation, cleanup -----------------------------------------------------------


def _clip_source(source: str, symbol: Symbol) -> str:
    if len(source) <= MAX_SOURCE_CHARS:
        return source
    head = source[: MAX_SOURCE_CHARS // 3]
    head = head[: head.rfind("\n") + 1]
    return f"{head}...\n{symbol.definition[: MAX_SOURCE_CHARS * 2 // 3]}\n"


def build_prompt(
    repo: str, source_name: str, source: str, test_name_path: str, test_prefix: str, symbol: Symbol
) -> str:
    """Qwen2.5-Coder's repository format: the module's file, then the test file so far."""
    return (
        f"<|repo_name|>{repo}\n<|file_sep|>{source_name}\n{_clip_source(source, symbol)}"
        f"\n<|file_sep|>{test_name_path}\n{test_prefix}"
    )


MAX_ASSERTIONS = 5
"""A generated test stops after this many assertion lines (more are mostly guesses)."""
_ASSERTION = re.compile(r"^\s*(assert\b|self\.assert\w*\(|expect\(|assert\.\w+\()")


def _body_end(text: str, framework: Framework, indent: int | None = None) -> int | None:
    """Where the generated test body ends (its closing line included), or None."""
    lines = text.split("\n")
    python = framework in ("pytest", "unittest")
    floor = indent if indent is not None else body_indent(framework, asynchronous=False)
    # Assertions counted toward the cap: the test body's own (Python), not nested ones.
    top = floor if python else 5
    offset = 0
    saw_body = False
    assertions = 0
    for index, line in enumerate(lines):
        stripped = line.strip()
        width = len(line) - len(line.lstrip(" \t"))
        complete_line = index < len(lines) - 1
        if python:
            if stripped and width < floor and saw_body:
                return offset
        elif framework == "go":
            if line.startswith("}") and index > 0:
                return offset + len("}")
        elif line.startswith("});") or line.startswith("})"):
            return offset + len(line.split(")", 1)[0]) + 1 + (1 if ";" in line else 0)
        if stripped:
            saw_body = True
        offset += len(line) + 1
        if complete_line and framework != "go" and _ASSERTION.match(line):
            assertions += 1
            if assertions >= MAX_ASSERTIONS and width <= top:
                return offset - 1
    return None


def stop_check(framework: Framework, indent: int | None = None) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        return _body_end(text, framework, indent) is not None

    return check


def _python_compiles(text: str) -> bool:
    """Whether the file compiles (stricter than parsing: ``await`` outside an async
    function and a misplaced ``from __future__`` are errors here)."""
    try:
        compile(text, "<generated test>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _syntax_errors_after(text: str, language: str, start: int) -> bool | None:
    """Whether tree-sitter finds an ERROR or MISSING node ending after code-point offset
    ``start`` of ``text`` (the generated test); None when no parser is installed."""
    parser = parser_for(language)
    if parser is None:
        return None
    tree = parser.parse(utf8(text))
    start_byte = len(utf8(text[:start]))
    pending = [tree.root_node]
    while pending:
        node = pending.pop()
        if not node.has_error and not node.is_missing:
            continue
        if (node.type == "ERROR" or node.is_missing) and node.end_byte > start_byte:
            return True
        pending.extend(node.children)
    return False


def _brace_test_is_valid(text: str, language: str, start: int) -> bool:
    errors = _syntax_errors_after(text, language, start)
    return _balanced(text) if errors is None else not errors


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += (char == "{") - (char == "}")
        if depth < 0:
            return False
    return depth == 0


def finish_body(
    raw: str,
    framework: Framework,
    head: str,
    language: str = "",
    indent: int | None = None,
) -> str:
    """Cut the answer where the test ends; drop trailing lines until the file is valid.

    ``head`` is the file up to the body (ending in the test's header); ``language`` picks
    the tree-sitter grammar that checks JS/TS/Go tests (default: Go or JavaScript)."""
    text = cut_at_markers(raw, QWEN25_CODER.stop_texts)
    end = _body_end(text, framework, indent)
    grammar = language or ("go" if framework == "go" else "javascript")
    test_start = head.rstrip("\n").rfind("\n") + 1
    lines = (text[:end] if end is not None else text).rstrip().split("\n")
    closer = {"go": "}", "jest": "});", "vitest": "});", "node": "});"}.get(framework, "")
    if closer and lines and lines[-1].strip().startswith("}"):
        lines = lines[:-1]
    while lines:
        body = "\n".join(line.rstrip() for line in lines).rstrip()
        candidate = body + ("\n" + closer if closer else "")
        if framework in ("pytest", "unittest"):
            if body.strip() and _python_compiles(head + candidate + "\n"):
                return candidate + "\n"
        elif body.strip() and _brace_test_is_valid(head + candidate + "\n", grammar, test_start):
            return candidate + "\n"
        lines = lines[:-1]
    raise TestGenerationError("the model did not write a usable test")


GO_STDLIB_PACKAGES = (
    "reflect",
    "strings",
    "fmt",
    "errors",
    "sort",
    "math",
    "strconv",
    "bytes",
    "time",
)


def add_go_imports(text: str) -> str:
    """Import the standard packages a generated Go test uses but its file does not import."""
    wanted = [
        name
        for name in GO_STDLIB_PACKAGES
        if re.search(rf"(?<![\w.]){name}\.[A-Z]", text) and f'"{name}"' not in text
    ]
    if not wanted:
        return text
    single = re.search(r'^import[ \t]+"([^"]+)"[ \t]*$', text, re.M)
    if single is not None:
        names = [single.group(1), *wanted]
        block = "import (\n" + "".join(f'\t"{name}"\n' for name in sorted(names)) + ")"
        return text[: single.start()] + block + text[single.end() :]
    group = re.search(r"^import\s*\(\n", text, re.M)
    if group is not None:
        lines = "".join(f'\t"{name}"\n' for name in wanted)
        return text[: group.end()] + lines + text[group.end() :]
    package = re.search(r"^package\s+\w+\n", text, re.M)
    at = package.end() if package else 0
    return text[:at] + "\nimport (\n" + "".join(f'\t"{n}"\n' for n in wanted) + ")\n" + text[at:]


def _line_end_offset(text: str, line: int) -> int:
    """The offset just past 1-based ``line`` (its line break included)."""
    starts = Document("", text).line_starts
    return starts[line] if line < len(starts) else len(text)


def _python_import_offset(text: str) -> int:
    """After the last leading import; with none, after the module docstring (and after
    any shebang or encoding comment), so ``from __future__`` imports stay first."""
    try:
        module = ast.parse(text)
    except (SyntaxError, ValueError):
        return _scanned_import_offset(text, "python")
    end_line = 0
    for index, statement in enumerate(module.body):
        docstring = (
            index == 0
            and isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        )
        if not docstring and not isinstance(statement, ast.Import | ast.ImportFrom):
            break
        end_line = statement.end_lineno or statement.lineno
    if end_line:
        return _line_end_offset(text, end_line)
    comments = re.match(r"(?:#[^\n]*(?:\n|$))*", text)
    return comments.end() if comments else 0


def _scanned_import_offset(text: str, language: str) -> int:
    """A line scan for files that do not parse: after the last import before the code."""
    offset = position = 0
    python = language == "python"
    pattern = r"(import|from)\s" if python else r"(import\s|const\s.*require\(|\"use strict)"
    for line in text.split("\n"):
        position += len(line) + 1
        if re.match(pattern, line):
            offset = position
        elif _starts_code(line, python):
            break
    return min(offset, len(text))


def _starts_code(line: str, python: bool) -> bool:
    """Whether ``line`` starts the code after a file's imports (the scan stops there)."""
    if python:
        return bool(re.match(r"(async\s+def|def|class|if|@)\b", line))
    return bool(line.strip()) and not line.startswith(("//", ")", " "))


def _top_import_offset(text: str, language: str) -> int:
    """Where a new import line goes in an existing test file: after its last top import."""
    if language == "python":
        return _python_import_offset(text)
    return _scanned_import_offset(text, language)


def _python_imports(text: str) -> tuple[set[str], set[str]]:
    """The modules a Python file imports (``import x``) and the names it imports from modules."""
    try:
        module = ast.parse(text)
    except (SyntaxError, ValueError):
        modules = set(re.findall(r"^import\s+(\w+)", text, re.M))
        names = set(re.findall(r"^from\s+\S+\s+import\s+\(?\s*.*?\b(TestCase)\b", text, re.M))
        return modules, names
    modules: set[str] = set()
    names: set[str] = set()
    for statement in module.body:
        if isinstance(statement, ast.Import):
            modules.update(alias.asname or alias.name for alias in statement.names)
        elif isinstance(statement, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in statement.names)
    return modules, names


def _unittest_base(existing: str | None) -> tuple[str, bool]:
    """The TestCase class a unittest-style file uses, and whether ``import unittest`` is
    needed: the file's own imported ``TestCase`` (unittest's or a framework's) first."""
    if existing is None:
        return "unittest.TestCase", False  # the new file's header imports unittest
    modules, names = _python_imports(existing)
    if "TestCase" in names:
        return "TestCase", False
    return "unittest.TestCase", "unittest" not in modules


def _missing_imports(
    existing: str, plan: TestPlan, symbol: Symbol, source: str, asynchronous: bool
) -> list[str]:
    """The import lines an existing test file needs for the new test."""
    lines: list[str] = []
    if plan.language == "python":
        modules, _ = _python_imports(existing)
        if asynchronous and "asyncio" not in modules:
            lines.append("import asyncio")
        if plan.framework == "unittest" and _unittest_base(existing)[1]:
            lines.append("import unittest")
    imports = import_line(plan, symbol, source)
    if imports and not _already_imports(existing, plan, symbol):
        lines.append(imports)
    return lines


def _trailing_line_breaks(text: str) -> int:
    tail = text[len(text.rstrip("\r\n")) :]
    return tail.count("\n") + tail.count("\r") - tail.count("\r\n")


def apply_insertions(text: str, insertions: list[tuple[int, str]]) -> str:
    """``text`` with each (offset in ``text``, inserted text) applied, in order."""
    pieces: list[str] = []
    last = 0
    for offset, inserted in sorted(insertions, key=lambda item: item[0]):
        pieces += [text[last:offset], inserted]
        last = offset
    return "".join(pieces) + text[last:]


def _existing_file_head(
    existing: str, plan: TestPlan, symbol: Symbol, source: str, asynchronous: bool
) -> tuple[str, list[tuple[int, str]]]:
    """The existing file with its new imports and the gap before the new test (the text
    the test follows), and the import insertion (offsets in ``existing``)."""
    insertions: list[tuple[int, str]] = []
    imports = _missing_imports(existing, plan, symbol, source, asynchronous)
    if imports:
        at = _top_import_offset(existing, plan.language)
        lead = "\n" if at > 0 and existing[at - 1] not in "\r\n" else ""
        insertions.append((at, lead + "".join(line + "\n" for line in imports)))
    prefix = apply_insertions(existing, insertions)
    wanted = 3 if plan.language == "python" else 2  # line breaks before the test
    gap = "" if not prefix.strip() else "\n" * max(0, wanted - _trailing_line_breaks(prefix))
    return prefix + gap, insertions


def generate_tests(
    backend: Backend,
    path: Path,
    source: str,
    line: int,
    column: int,
    cancel: CancelToken,
    workspace: Path | None = None,
    read: ReadText = read_file,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    symbol: Symbol | None = None,
) -> GeneratedTests:
    """Write a test for the symbol at (line, column) of ``path`` (whose text is ``source``).

    An existing test file keeps its text: the new imports go after its top imports (after
    a module docstring and ``from __future__``), the test after its end; the insertions'
    offsets are in that original text. A test for an async Python function runs its body
    as an inner coroutine with ``asyncio.run`` (no pytest plugin needed)."""
    language = language_of(path)
    if symbol is None:
        if not language:
            raise TestGenerationError(f"test generation does not support {path.suffix} files")
        symbol = symbol_at(source, line, column, language)
    if symbol is None:
        raise TestGenerationError("no function, method or class at the cursor")
    plan = plan_tests(path, symbol.language, workspace, read)
    existing = plan.existing
    asynchronous = is_async(symbol) and plan.language != "go"
    test_name = _test_name(symbol, existing or "")
    package_match = re.search(r"^package\s+(\w+)", source, re.M)
    package = package_match.group(1) if package_match else "main"
    insertions: list[tuple[int, str]] = []
    if existing is None:
        gap = "\n\n" if plan.language == "python" else "\n"
        head = file_header(plan, symbol, source, package) + gap
    else:
        head, insertions = _existing_file_head(existing, plan, symbol, source, asynchronous)
    base_class = _unittest_base(existing)[0]
    header = test_header(plan, test_name, False, asynchronous, base_class)
    repo = (workspace or path.parent).name or "project"
    try:
        source_name = str(path.relative_to(workspace)) if workspace else path.name
        test_label = (
            str(plan.test_path.relative_to(workspace)) if workspace else plan.test_path.name
        )
    except ValueError:
        source_name, test_label = path.name, plan.test_path.name
    test_prefix = head[-MAX_TEST_CONTEXT_CHARS:] + header
    prompt = build_prompt(repo, source_name, source, test_label, test_prefix, symbol)
    options = GenerationOptions(
        max_new_tokens=max_new_tokens, temperature=0.0, stop_texts=QWEN25_CODER.stop_texts
    )
    indent = body_indent(plan.framework, asynchronous)
    generation = backend.generate(prompt, options, cancel, stop_check(plan.framework, indent))
    if cancel.cancelled:
        raise TestGenerationError("cancelled")
    grammar = "tsx" if path.suffix.lower() == ".tsx" else plan.language
    body = finish_body(generation.text, plan.framework, head + header, grammar, indent)
    test_text = header + body
    if asynchronous and plan.language == "python":
        test_text += async_trailer(plan)
    if plan.framework == "unittest" and existing is None:
        test_text += '\n\nif __name__ == "__main__":\n    unittest.main()\n'
    text = head + test_text
    if plan.language == "go":
        fixed = add_go_imports(text)
        if fixed != text and existing is not None:
            # Rewrite the whole file: the import block changed too.
            return GeneratedTests(
                plan.test_path,
                False,
                fixed,
                [],
                test_name,
                generation.text,
                replaced=existing,
                original=existing,
            )
        text = fixed
    if existing is None:
        return GeneratedTests(plan.test_path, True, text, [], test_name, generation.text)
    insertions.append((len(existing), text[len(apply_insertions(existing, insertions)) :]))
    return GeneratedTests(
        plan.test_path, False, text, insertions, test_name, generation.text, original=existing
    )


def _already_imports(existing: str, plan: TestPlan, symbol: Symbol) -> bool:
    name = symbol.importable
    if plan.language == "python":
        return bool(
            re.search(
                rf"^from\s+{re.escape(plan.module)}\s+import\s[^\n]*\b{name}\b", existing, re.M
            )
            or re.search(
                rf"^from\s+{re.escape(plan.module)}\s+import\s+\((?:[^)]*)\b{name}\b",
                existing,
                re.M,
            )
        )
    return bool(re.search(rf"\b{name}\b[^\n]*(require|from)\s*\(?\s*['\"]", existing))


def to_workspace_edit(
    result: GeneratedTests, encoding: str, version: int | None = None, uri: str | None = None
) -> lsp.WorkspaceEdit:
    """The change as an LSP edit: create-and-fill a new file, or insert into the old one.

    ``uri`` is the editor's URI of the test file when it has the file open (else the test
    path as found, symlinks not resolved). Positions are in the original text."""
    uri = uri or result.test_path.absolute().as_uri()
    identifier = lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    if result.created:
        start = lsp.Position(line=0, character=0)
        return lsp.WorkspaceEdit(
            document_changes=[
                lsp.CreateFile(uri=uri, options=lsp.CreateFileOptions(ignore_if_exists=True)),
                lsp.TextDocumentEdit(
                    text_document=identifier,
                    edits=[
                        lsp.TextEdit(range=lsp.Range(start=start, end=start), new_text=result.text)
                    ],
                ),
            ]
        )
    if result.replaced is not None:
        line, character = Document(uri, result.replaced).position_at(len(result.replaced), encoding)
        end = lsp.Position(line=line, character=character)
        start = lsp.Position(line=0, character=0)
        edit = lsp.TextEdit(range=lsp.Range(start=start, end=end), new_text=result.text)
        return lsp.WorkspaceEdit(
            document_changes=[lsp.TextDocumentEdit(text_document=identifier, edits=[edit])]
        )
    document = Document(uri, result.original)
    merged: dict[int, str] = {}
    for offset, inserted in result.insertions:
        merged[offset] = merged.get(offset, "") + inserted
    edits = []
    for offset, inserted in sorted(merged.items()):
        line, character = document.position_at(offset, encoding)
        position = lsp.Position(line=line, character=character)
        edits.append(lsp.TextEdit(range=lsp.Range(start=position, end=position), new_text=inserted))
    return lsp.WorkspaceEdit(
        document_changes=[lsp.TextDocumentEdit(text_document=identifier, edits=edits)]
    )
