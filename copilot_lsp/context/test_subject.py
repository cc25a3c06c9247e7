"""Inline test completion: the definitions of the functions under test, for the prompt.

In a test file, inside a test function or after an ``assert`` / ``expect(``, the model
writes better assertions when it sees the tested function's definition (argument names,
return values). Pure functions: the caller passes a ``read_module`` callback that turns an
import spec (``textstats``, ``./cart``, a Go package directory) into source text.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

TEST_FILE_PATTERNS = (
    "test_*.py",
    "*_test.py",
    "*_test.go",
    "*.test.js",
    "*.test.ts",
    "*.test.jsx",
    "*.test.tsx",
    "*.test.mjs",
    "*.spec.js",
    "*.spec.ts",
    "*Test.java",
    "*Tests.java",
)

ReadModule = Callable[[str], str | None]
"""Import spec -> source text of that module (None when it cannot be found)."""


def is_test_file(path: str) -> bool:
    name = PurePath(path).name
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in TEST_FILE_PATTERNS)


def _indent_width(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def current_test(prefix: str, language: str) -> str | None:
    """The text of the test function the cursor is in (up to the cursor), or None."""
    lines = prefix.split("\n")
    if language == "python":
        for index in range(len(lines) - 1, -1, -1):
            match = re.match(r"^(\s*)(?:async\s+)?def\s+(test\w*)", lines[index])
            if match is not None:
                inside = all(
                    not line.strip() or _indent_width(line) > len(match.group(1))
                    for line in lines[index + 1 :]
                )
                return "\n".join(lines[index:]) if inside else None
            if lines[index].strip() and _indent_width(lines[index]) == 0 and index < len(lines) - 1:
                return None
        return None
    if language == "go":
        starts = [m.start(1) for m in re.finditer(r"(?:^|\n)(func Test)", prefix)]
        if not starts or "\n}" in prefix[starts[-1] :]:
            return None
        return prefix[starts[-1] :]
    if language in ("javascript", "typescript"):
        starts = [m.start() for m in re.finditer(r"\b(?:test|it)\s*\(", prefix)]
        if not starts:
            return None
        body = prefix[starts[-1] :]
        return body if body.count("{") > body.count("}") else None
    return None


def called_names(code: str) -> list[str]:
    """Identifiers called in ``code``, in order of first call (``a.b(`` gives ``a``)."""
    names: list[str] = []
    for match in re.finditer(r"(?<![\w.])([A-Za-z_]\w*)(?:\.\w+)*\s*\(", code):
        name = match.group(1)
        if name not in names:
            names.append(name)
    for match in re.finditer(r"\bnew\s+([A-Za-z_]\w*)", code):
        if match.group(1) not in names:
            names.append(match.group(1))
    return names


def subject_names(test_code: str, language: str) -> list[str]:
    """Likely functions under test: called names plus the one the test's name points to."""
    names = called_names(test_code.split("\n", 1)[1] if "\n" in test_code else "")
    header = re.match(r"\s*(?:async\s+)?(?:def|func)\s+[Tt]est_?(\w+)", test_code)
    if header is not None:
        hint = header.group(1)
        names.insert(0, hint)
        if language == "go" and hint:
            names.insert(1, hint[0].lower() + hint[1:])
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Import:
    name: str
    """The name the test file uses."""
    original: str
    """The name in the module it comes from."""
    module: str
    """The import spec: a dotted Python module, a JS path, or ``.`` for Go's package."""


def python_imports(source: str) -> list[Import]:
    imports: list[Import] = []
    for match in re.finditer(
        r"^from\s+([\w.]+)\s+import\s+\(?([^)\n]+(?:\n[^)]*)?)\)?", source, re.M
    ):
        module = match.group(1)
        for part in match.group(2).replace("\n", " ").split(","):
            pieces = part.split()
            if not pieces or pieces[0] == "*":
                continue
            local = pieces[2] if len(pieces) == 3 and pieces[1] == "as" else pieces[0]
            imports.append(Import(local, pieces[0], module))
    for match in re.finditer(r"^import\s+([\w.]+)(?:\s+as\s+(\w+))?", source, re.M):
        imports.append(Import(match.group(2) or match.group(1), "*", match.group(1)))
    return imports


def js_imports(source: str) -> list[Import]:
    imports: list[Import] = []
    patterns = (
        r"(?:const|let|var)\s*\{([^}]*)\}\s*=\s*require\(\s*['\"]([^'\"]+)['\"]\s*\)",
        r"import\s*\{([^}]*)\}\s*from\s*['\"]([^'\"]+)['\"]",
    )
    for pattern in patterns:
        for match in re.finditer(pattern, source):
            for part in match.group(1).split(","):
                pieces = re.split(r"\s*(?::|\bas\b)\s*", part.strip())
                if pieces[0]:
                    local = pieces[-1] if len(pieces) == 2 else pieces[0]
                    imports.append(Import(local, pieces[0], match.group(2)))
    for pattern in (
        r"(?:const|let|var)\s+(\w+)\s*=\s*require\(\s*['\"]([^'\"]+)['\"]\s*\)",
        r"import\s+(\w+)\s+from\s*['\"]([^'\"]+)['\"]",
    ):
        for match in re.finditer(pattern, source):
            imports.append(Import(match.group(1), "default", match.group(2)))
    return [item for item in imports if item.module.startswith(".")]


def _matching_brace_end(source: str, open_at: int) -> int:
    depth = 0
    for index in range(open_at, len(source)):
        if source[index] == "{":
            depth += 1
        elif source[index] == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    return len(source)


def find_definition(source: str, name: str, language: str) -> str | None:
    """The source text of the top-level function/class/method ``name`` in ``source``."""
    if language == "python":
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return None
        for node in tree.body:
            definition = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            if definition and node.name == name:  # type: ignore[union-attr]
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines = source.split("\n")[start - 1 : node.end_lineno]
                return "\n".join(lines)
        return None
    if language == "go":
        pattern = rf"^func\s+(?:\([^)]*\)\s*)?{re.escape(name)}\s*\(|^type\s+{re.escape(name)}\b"
    else:
        pattern = (
            rf"^[ \t]*(?:export\s+)?(?:default\s+)?(?:async\s+)?"
            rf"(?:function\s*\*?\s*{re.escape(name)}\s*\(|class\s+{re.escape(name)}\b|"
            rf"(?:const|let|var)\s+{re.escape(name)}\s*=)"
        )
    match = re.search(pattern, source, re.M)
    if match is None:
        return None
    start = match.start()
    # Keep the doc comment just above the definition.
    before = source[:start].rstrip("\n").split("\n")
    doc: list[str] = []
    while before and before[-1].strip().startswith(("//", "*", "/*")):
        doc.insert(0, before.pop())
    brace = source.find("{", match.end() - 1)
    end = _matching_brace_end(source, brace) if brace != -1 else len(source)
    text = source[start:end]
    return "\n".join([*doc, text]) if doc else text


def definitions_under_test(
    test_prefix: str, language: str, read_module: ReadModule
) -> list[tuple[str, str]]:
    """``(module, definition)`` of the functions the test at the end of ``test_prefix``
    calls, in call order and without repeats; ``module`` is ``"."`` for Go's own package.

    Go tests are in the package they test: ``read_module(".")`` returns the package's other
    (non-test) files.
    """
    test = current_test(test_prefix, language)
    if test is None:
        return []
    names = subject_names(test, language)
    found: list[tuple[str, str]] = []
    if language == "go":
        package = read_module(".") or ""
        found = [(".", d) for n in names if (d := find_definition(package, n, "go"))]
    else:
        imports = python_imports(test_prefix) if language == "python" else js_imports(test_prefix)
        by_name = {item.name: item for item in imports}
        for name in names:
            item = by_name.get(name)
            if item is None:
                continue
            source = read_module(item.module)
            if source is None:
                continue
            lookup = name if item.original in ("*", "default") else item.original
            definition = find_definition(source, lookup, language)
            if definition is None and item.original == "default":
                definition = find_definition(source, name, language)
            if definition is not None:
                found.append((item.module, definition))
    unique: dict[str, str] = {}
    for module, definition in found:
        unique.setdefault(definition, module)
    return [(module, definition) for definition, module in unique.items()]
