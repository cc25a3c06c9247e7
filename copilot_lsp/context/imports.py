"""Imports of the current file resolved to definitions in the workspace.

Python (``import``/``from … import``, relative and absolute), JavaScript/TypeScript
(relative ``import``/``require``) and Go (module paths under a ``go.mod`` of the workspace,
plus the package's sibling files). Each definition the file uses becomes a snippet, scored
by how close to the cursor it is used. A name that a later top-level definition or
assignment of the file rebinds is the local one, and brings nothing.
"""

from __future__ import annotations

import bisect
import re
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter

from copilot_lsp.context.definitions import Definition, definitions, rebound, top_level
from copilot_lsp.context.snippets import ContextQuery, Snippet
from copilot_lsp.syntax import ParsedDocument, language_of

USAGE_CHARS_BEFORE = 12_000
USAGE_CHARS_AFTER = 3_000
_IMPORT_LINE = re.compile(r"^[ \t]*(import|from)\b", re.MULTILINE)
ReadFile = Callable[[Path], "str | None"]


@dataclass(frozen=True)
class Imported:
    local: str
    """The name this file uses."""
    module: str
    """As written: ``..core``, ``./cart``, ``example.com/m/pkg``."""
    name: str | None = None
    """The imported symbol; None when ``local`` names the whole module."""
    line: int = 0
    """0-based line of the import statement."""


def _text(node: tree_sitter.Node | None) -> str:
    return node.text.decode("utf-8", errors="replace") if node is not None and node.text else ""


def _python_imports(root: tree_sitter.Node) -> list[Imported]:
    found: list[Imported] = []
    for node in top_level(root):
        line = node.start_point[0]
        if node.type == "import_statement":
            for item in node.children_by_field_name("name"):
                if item.type == "aliased_import":
                    found.append(
                        Imported(
                            _text(item.child_by_field_name("alias")),
                            _text(item.child_by_field_name("name")),
                            line=line,
                        )
                    )
                else:
                    dotted = _text(item)
                    found.append(Imported(dotted, dotted, line=line))
        elif node.type == "import_from_statement":
            module = _text(node.child_by_field_name("module_name"))
            for item in node.children_by_field_name("name"):
                if item.type == "aliased_import":
                    name = _text(item.child_by_field_name("name"))
                    alias = _text(item.child_by_field_name("alias"))
                    found.append(Imported(alias, module, name, line))
                else:
                    found.append(Imported(_text(item), module, _text(item), line))
    return found


_REQUIRE = re.compile(
    r"(?:const|let|var)\s+(?:\{([^}]*)\}|(\w+))\s*=\s*require\(\s*['\"]([^'\"]+)['\"]\s*\)"
)


def _js_imports(root: tree_sitter.Node, text: str) -> list[Imported]:
    found: list[Imported] = []
    for node in top_level(root):
        if node.type != "import_statement":
            continue
        source = _text(node.child_by_field_name("source")).strip("'\"`")
        line = node.start_point[0]
        for clause in node.named_children:
            if clause.type != "import_clause":
                continue
            for part in clause.named_children:
                if part.type == "identifier":
                    found.append(Imported(_text(part), source, "default", line))
                elif part.type == "namespace_import":
                    found.append(Imported(_text(part.named_children[-1]), source, line=line))
                elif part.type == "named_imports":
                    for spec in part.named_children:
                        name = _text(spec.child_by_field_name("name"))
                        alias = _text(spec.child_by_field_name("alias")) or name
                        found.append(Imported(alias, source, name, line))
    for match in _REQUIRE.finditer(text):
        names, whole, source = match.groups()
        line = text.count("\n", 0, match.start())
        if whole:
            found.append(Imported(whole, source, line=line))
        for item in (names or "").split(","):
            name, _, alias = (part.strip() for part in item.partition(":"))
            if name:
                found.append(Imported(alias or name, source, name, line))
    return found


def _go_imports(root: tree_sitter.Node) -> list[Imported]:
    found: list[Imported] = []
    stack = [node for node in top_level(root) if node.type == "import_declaration"]
    while stack:
        node = stack.pop()
        if node.type == "import_spec":
            path = _text(node.child_by_field_name("path")).strip('"`')
            alias = _text(node.child_by_field_name("name"))
            found.append(Imported(alias or path.rsplit("/", 1)[-1], path))
        else:
            stack += node.named_children
    return found


def imports_of(document: ParsedDocument) -> list[Imported]:
    if document.tree is None:
        return []
    root = document.tree.root_node
    if document.language == "python":
        return _python_imports(root)
    if document.language in ("javascript", "typescript", "tsx"):
        return _js_imports(root, document.text)
    if document.language == "go":
        return _go_imports(root)
    return []


_LIVE: weakref.WeakKeyDictionary[ParsedDocument, tuple[tree_sitter.Tree, tuple[Imported, ...]]]
_LIVE = weakref.WeakKeyDictionary()


def live_imports(document: ParsedDocument) -> tuple[Imported, ...]:
    """The imports the file's code uses, each once: an import that a later top-level
    definition or assignment of the file rebinds is left out. Read once per syntax tree,
    because every request asks: in a ~900 KB file, scanning the top level and resolving
    the same imports again took up to 200 ms per request."""
    tree = document.tree
    if tree is None:
        return ()
    cached = _LIVE.get(document)
    if cached is None or cached[0] is not tree:
        imported = imports_of(document)
        shadowing = rebound(document, {item.local for item in imported})
        live: dict[tuple[str, str, str | None], Imported] = {}
        for item in imported:
            if shadowing.get(item.local, -1) <= item.line:
                live.setdefault((item.local, item.module, item.name), item)
        cached = _LIVE[document] = (tree, tuple(live.values()))
    return cached[1]


# --- resolution ------------------------------------------------------------------------

_JS_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".d.ts")
_TS_SOURCES = {
    ".js": (".ts", ".tsx", ".d.ts"),
    ".jsx": (".tsx",),
    ".mjs": (".mts", ".d.mts"),
    ".cjs": (".cts", ".d.cts"),
}
"""TypeScript resolves an import of the emitted ``.js`` file to its ``.ts`` source."""


def _js_candidates(target: Path) -> list[Path]:
    """Files an import of ``target`` may mean, in the order they are tried.

    An explicit extension (``./cart.js``, ES-module style) is the file itself or, as in
    TypeScript, its ``.ts``/``.tsx`` source; then ``target`` plus an extension
    (``./cart``, ``./cart.service``), then the folder's ``index`` file.
    """
    suffix = target.suffix.lower()
    candidates: list[Path] = []
    if suffix in _TS_SOURCES:
        candidates.append(target)
        candidates += [target.with_suffix(source) for source in _TS_SOURCES[suffix]]
    elif suffix in _JS_EXTENSIONS or suffix in (".mts", ".cts"):
        candidates.append(target)
    candidates += [Path(str(target) + extension) for extension in _JS_EXTENSIONS]
    candidates += [target / f"index{extension}" for extension in _JS_EXTENSIONS]
    return candidates


class Resolver:
    """Maps an import to the files that define it, within the indexed workspace."""

    def __init__(self, query: ContextQuery, read: ReadFile) -> None:
        self.query = query
        self.read = read
        self.current = Path(query.path) if Path(query.path).is_absolute() else None
        workspace = query.workspace
        self.files = workspace.paths() if workspace is not None else frozenset()

    def exists(self, path: Path) -> bool:
        return path in self.files or (not self.files and path.is_file())

    def python(self, module: str) -> list[Path]:
        if self.current is None:
            return []
        level = len(module) - len(module.lstrip("."))
        parts = [p for p in module.lstrip(".").split(".") if p]
        bases: list[Path] = []
        if level:
            base = self.current.parent
            for _ in range(level - 1):
                base = base.parent
            bases.append(base)
        else:
            # Absolute: try every ancestor of the current file as the import root.
            bases += list(self.current.parents)
        for base in bases:
            target = base.joinpath(*parts)
            for candidate in (target.with_suffix(".py"), target / "__init__.py"):
                if parts and candidate != self.current and self.exists(candidate):
                    return [candidate]
            if not parts and (base / "__init__.py").is_file():
                return [base / "__init__.py"]
        return []

    def javascript(self, module: str) -> list[Path]:
        if self.current is None or not module.startswith("."):
            return []
        target = (self.current.parent / module).resolve()
        for candidate in _js_candidates(target):
            if candidate != self.current and self.exists(candidate):
                return [candidate]
        return []

    def go(self, module: str) -> list[Path]:
        if self.current is None:
            return []
        for folder in [self.current.parent, *self.current.parents]:
            gomod = folder / "go.mod"
            try:
                text = gomod.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            match = re.search(r"^module\s+(\S+)", text, re.MULTILINE)
            if match and (module == match.group(1) or module.startswith(match.group(1) + "/")):
                package = folder / module[len(match.group(1)) :].lstrip("/")
                return self.go_package(package)
            break
        return []

    def go_package(self, folder: Path, exclude: Path | None = None) -> list[Path]:
        return sorted(
            f
            for f in self.files
            if f.parent == folder and f.suffix == ".go" and f != exclude
            and not f.name.endswith("_test.go")
        )  # fmt: skip


class LineIndex:
    """Line numbers of offsets in one text (bisect over line starts, built once)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1

    def lines_matching(self, pattern: str | re.Pattern[str]) -> list[int]:
        return [self.line(m.start()) for m in re.finditer(pattern, self.text)]


@dataclass
class ImportedDefinitions:
    """Provider: definitions of imported names (and of a Go package's sibling files)."""

    max_per_module: int = 8
    name: str = "imports"
    weight: float = 1.0
    _definitions: dict[Path, tuple[int, list[Definition]]] = field(default_factory=dict, repr=False)

    def _defs(self, path: Path, read: ReadFile) -> list[Definition]:
        text = read(path)
        if text is None:
            return []
        cached = self._definitions.get(path)
        if cached is not None and cached[0] == hash(text):
            return cached[1]
        language = language_of(path=path.name)
        found = definitions(ParsedDocument(text, language)) if language else []
        self._definitions[path] = (hash(text), found)
        return found

    def _wanted(self, query: ContextQuery, resolver: Resolver) -> list[tuple[Path, str, str]]:
        """(file, definition name, regex matching its uses in the current file)."""
        document, read = query.parsed, resolver.read
        assert document is not None
        wanted: list[tuple[Path, str, str]] = []
        for item in live_imports(document):
            if document.language == "python":
                files, item = self._python_target(item, resolver, read)
            elif document.language == "go":
                files = resolver.go(item.module)
            else:
                files = resolver.javascript(item.module)
            for path in files:
                for definition in self._defs(path, read):
                    if item.name is None:
                        local = re.escape(item.local)
                        usage = rf"\b{local}\s*\.\s*{re.escape(definition.name)}\b"
                    elif item.name == definition.name or (
                        item.name == "default" and definition.default
                    ):
                        usage = rf"(?<![.\w]){re.escape(item.local)}\b"
                    else:
                        continue
                    wanted.append((path, definition.name, usage))
        if document.language == "go" and resolver.current is not None:
            for path in resolver.go_package(resolver.current.parent, resolver.current):
                for definition in self._defs(path, read):
                    usage = rf"(?<![.\w]){re.escape(definition.name)}\b"
                    wanted.append((path, definition.name, usage))
        return wanted

    def _python_target(
        self, item: Imported, resolver: Resolver, read: ReadFile
    ) -> tuple[list[Path], Imported]:
        """``from pkg import name``: the module defining ``name``, or submodule ``pkg.name``."""
        files = resolver.python(item.module)
        if item.name is None:
            return files, item
        if files and any(d.name == item.name for d in self._defs(files[0], read)):
            return files, item
        joiner = "" if item.module.endswith(".") else "."
        submodule = resolver.python(f"{item.module}{joiner}{item.name}")
        if submodule:
            return submodule, Imported(item.local, item.module)
        return files, item

    def snippets(self, query: ContextQuery) -> Iterable[Snippet]:
        if query.parsed is None or query.read is None:
            return []
        resolver = Resolver(query, query.read)
        # Uses are looked for around the cursor only: far-away uses rank low anyway, and
        # the cost stays the same in a 5,000-line file.
        text = query.parsed.text
        begin = max(0, query.cursor - USAGE_CHARS_BEFORE)
        begin = text.rfind("\n", 0, begin) + 1 if begin else 0
        region = text[begin : query.cursor + USAGE_CHARS_AFTER]
        index = LineIndex(region)
        cursor_line = index.line(query.cursor - begin)
        import_lines = set(index.lines_matching(_IMPORT_LINE))
        scored: list[tuple[float, Path, Definition]] = []
        seen: set[tuple[Path, str]] = set()
        for path, name, usage in self._wanted(query, resolver):
            if (path, name) in seen:
                continue
            seen.add((path, name))
            lines = [line for line in index.lines_matching(usage) if line not in import_lines]
            if not lines:
                continue
            distance = min(abs(line - cursor_line) for line in lines)
            # The last definition of a name wins (after ``@overload`` stubs, as at run time).
            definition = [d for d in self._defs(path, query.read) if d.name == name][-1]
            scored.append((1.0 / (1.0 + distance / 8.0), path, definition))
        scored.sort(key=lambda item: -item[0])
        found: list[Snippet] = []
        per_file: dict[Path, int] = {}
        for score, path, definition in scored:
            if per_file.get(path, 0) >= self.max_per_module:
                continue
            per_file[path] = per_file.get(path, 0) + 1
            relative = query.workspace.relative_path(path) if query.workspace else path.name
            found.append(
                Snippet(relative, definition.text, self.name, score, definition.line, str(path))
            )
        return found
