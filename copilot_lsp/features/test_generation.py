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
from tree_sitter import Language, Node, Parser

from copilot_lsp.backends.base import Backend, CancelToken, GenerationOptions
from copilot_lsp.documents import Document
from copilot_lsp.postprocess import cut_at_markers
from copilot_lsp.prompt.fim import QWEN25_CODER
from copilot_lsp.syntax import utf8

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


def read_file(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


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
    texts = [read(p) or "" for p in siblings]
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
        package = json.loads(read(root / "package.json") or "{}")
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
    if plan.framework == "pytest":
        return f"{imports}\n"
    if plan.framework == "unittest":
        return f"import unittest\n\n{imports}\n"
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


def test_header(plan: TestPlan, test_name: str, indent_class: bool) -> str:
    """The test's opening line(s); the model writes the body after them."""
    if plan.framework == "pytest":
        return f"def {test_name}() -> None:\n"
    if plan.framework == "unittest":
        method = f"    def {test_name}(self) -> None:\n"
        if indent_class:
            return method
        camel = "".join(part.capitalize() for part in test_name.split("_"))
        return f"class {camel}(unittest.TestCase):\n{method}"
    if plan.framework == "go":
        camel = "".join(part[:1].upper() + part[1:] for part in test_name.split("_"))
        return f"func {camel}(t *testing.T) {{\n"
    label = test_name.removeprefix("test_").replace("_", ".")
    return f'test("{label}", () => {{\n'


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


def _body_end(text: str, framework: Framework) -> int | None:
    """Where the generated test body ends (its closing line included), or None."""
    lines = text.split("\n")
    body_indent = 8 if framework == "unittest" else 1
    offset = 0
    saw_body = False
    assertions = 0
    for index, line in enumerate(lines):
        stripped = line.strip()
        width = len(line) - len(line.lstrip(" \t"))
        complete_line = index < len(lines) - 1
        if framework in ("pytest", "unittest"):
            if stripped and width < body_indent and saw_body:
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
            if assertions >= MAX_ASSERTIONS and width <= body_indent + 4:
                return offset - 1
    return None


def stop_check(framework: Framework) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        return _body_end(text, framework) is not None

    return check


def _python_parses(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += (char == "{") - (char == "}")
        if depth < 0:
            return False
    return depth == 0


def finish_body(raw: str, framework: Framework, head: str) -> str:
    """Cut the answer where the test ends; drop trailing lines until the file is valid."""
    text = cut_at_markers(raw, QWEN25_CODER.stop_texts)
    end = _body_end(text, framework)
    lines = (text[:end] if end is not None else text).rstrip().split("\n")
    closer = {"go": "}", "jest": "});", "vitest": "});", "node": "});"}.get(framework, "")
    if closer and lines and lines[-1].strip().startswith("}"):
        lines = lines[:-1]
    while lines:
        body = "\n".join(line.rstrip() for line in lines).rstrip()
        candidate = body + ("\n" + closer if closer else "")
        if framework in ("pytest", "unittest"):
            if body.strip() and _python_parses(head + candidate + "\n"):
                return candidate + "\n"
        elif body.strip() and _balanced(head + candidate):
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
    single = re.search(r'^import\s+"([^"]+)"\s*$', text, re.M)
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


def _top_import_offset(text: str, language: str) -> int:
    """Where a new import line goes in an existing test file: after its last top import."""
    offset = 0
    position = 0
    pattern = (
        r"(import|from)\s"
        if language == "python"
        else r"(import\s|const\s.*require\(|\"use strict)"
    )
    for line in text.split("\n"):
        position += len(line) + 1
        if re.match(pattern, line):
            offset = position
        elif line.strip() and not line.startswith(("#", "//", '"""', ")", " ")):
            break
    return min(offset, len(text))


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
    """Write a test for the symbol at (line, column) of ``path`` (whose text is ``source``)."""
    language = language_of(path)
    if symbol is None:
        if not language:
            raise TestGenerationError(f"test generation does not support {path.suffix} files")
        symbol = symbol_at(source, line, column, language)
    if symbol is None:
        raise TestGenerationError("no function, method or class at the cursor")
    plan = plan_tests(path, symbol.language, workspace, read)
    existing = plan.existing
    test_name = _test_name(symbol, existing or "")
    package_match = re.search(r"^package\s+(\w+)", source, re.M)
    package = package_match.group(1) if package_match else "main"
    insertions: list[tuple[int, str]] = []
    if existing is None:
        gap = "\n\n" if plan.language == "python" else "\n"
        head = file_header(plan, symbol, source, package) + gap
        base_text = ""
    else:
        base_text = existing.rstrip("\n") + "\n"
        head = base_text
        imports = import_line(plan, symbol, source)
        if imports and not _already_imports(existing, plan, symbol):
            at = _top_import_offset(existing, plan.language)
            insertions.append((at, imports + "\n"))
            head = existing[:at] + imports + "\n" + existing[at:]
            head = head.rstrip("\n") + "\n"
        if plan.framework == "unittest" and "unittest" not in existing:
            insertions.insert(0, (0, "import unittest\n"))
            head = "import unittest\n" + head
        head += "\n\n" if plan.language == "python" else "\n"
    header = test_header(plan, test_name, indent_class=False)
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
    generation = backend.generate(prompt, options, cancel, stop_check(plan.framework))
    if cancel.cancelled:
        raise TestGenerationError("cancelled")
    body = finish_body(generation.text, plan.framework, head + header)
    test_text = header + body
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
                [(0, fixed)],
                test_name,
                generation.text,
                replace_all=True,
            )
        text = fixed
    if existing is None:
        return GeneratedTests(plan.test_path, True, text, [], test_name, generation.text)
    separator = "" if existing.endswith("\n") else "\n"
    insertions.append((len(existing), separator + "\n\n" + test_text))
    return GeneratedTests(plan.test_path, False, text, insertions, test_name, generation.text)


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
    result: GeneratedTests, encoding: str, version: int | None = None
) -> lsp.WorkspaceEdit:
    """The change as an LSP edit: create-and-fill a new file, or insert into the old one."""
    uri = result.test_path.resolve().as_uri()
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
    old = result.text
    for offset, inserted in reversed(result.insertions):
        old = old[:offset] + old[offset + len(inserted) :]
    document = Document(uri, old)
    edits = []
    for offset, inserted in result.insertions:
        line, character = document.position_at(offset, encoding)
        position = lsp.Position(line=line, character=character)
        edits.append(lsp.TextEdit(range=lsp.Range(start=position, end=position), new_text=inserted))
    return lsp.WorkspaceEdit(
        document_changes=[lsp.TextDocumentEdit(text_document=identifier, edits=edits)]
    )
