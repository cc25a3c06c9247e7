"""Cross-file line completion, scored like CrossCodeEval (exact match, edit similarity).

Two sources of tasks:

- :func:`load_crossfile` cuts holes in real multi-file packages installed with this
  project (click, rich, attrs): at a line that uses a name imported from another module of
  the same package, the cursor goes right after ``Name.`` or ``name(`` and the rest of the
  line is the ground truth.
- :func:`load_cceval` reads the 25 CrossCodeEval rows of the shared benchmark folder
  (for format and pipeline checks; too few for headline numbers).

Each hole is asked twice, with and without cross-file context (task groups
``<benchmark>/context`` and ``<benchmark>/no-context``, task ids ending ``#context`` and
``#no-context``). Both variants go through the product's context engine over the package
folder (:func:`task_request`); the no-context variant's engine has no snippet providers,
so the two prompts differ only by the cross-file block. The CrossCodeEval sample brings
its own retrieved context, which goes on top of the prefix as given.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from copilot_lsp.context.engine import ContextEngine
from copilot_lsp.eval.task import Task, benchdata_dir, read_jsonl
from copilot_lsp.features.inline_completion import CompletionRequest
from copilot_lsp.prompt.fim import Budget, clip_prefix

PACKAGES = ("click", "rich", "attr")
"""Pure-Python packages whose modules import from each other."""
CONTEXT_CHARS = 2000
"""At most this much of the prompt's prefix budget goes to cross-file context."""


@dataclass(frozen=True)
class Definition:
    name: str
    path: str
    """Where it is defined, relative to the package's parent folder (``click/core.py``)."""
    summary: str
    """Its signature and docstring (classes: also their methods' signatures)."""


def _docstring_lines(node: ast.AST, indent: str) -> list[str]:
    doc = ast.get_docstring(node)  # type: ignore[arg-type]
    if not doc:
        return []
    first_paragraph = doc.strip().split("\n\n", 1)[0]
    lines = first_paragraph.splitlines()
    return [f'{indent}"""{lines[0]}', *(f"{indent}{line}" for line in lines[1:]), f'{indent}"""']


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef, indent: str) -> str:
    keyword = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"{indent}{keyword} {node.name}({ast.unparse(node.args)}){returns}: ..."


def summarize(node: ast.AST) -> str:
    """A definition's signature and docstring; a class also lists its public methods."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return "\n".join([_signature(node, ""), *_docstring_lines(node, "    ")])
    if isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(base) for base in node.bases)
        lines = [f"class {node.name}({bases}):" if bases else f"class {node.name}:"]
        lines += _docstring_lines(node, "    ")
        for item in node.body:
            if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if not item.name.startswith("_") or item.name == "__init__":
                lines.append(_signature(item, "    "))
        return "\n".join(lines)
    return ""


def _module_path(package_dir: Path, dotted: str) -> Path | None:
    base = package_dir.joinpath(*dotted.split(".")) if dotted else package_dir
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _top_level_definitions(path: Path) -> dict[str, ast.AST]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return {node.name: node for node in tree.body if isinstance(node, kinds)}


def imported_definitions(module: Path, package_dir: Path) -> dict[str, Definition]:
    """Names that ``module`` imports from sibling modules, resolved to their definitions."""
    package = package_dir.name
    tree = ast.parse(module.read_text(encoding="utf-8"))
    here = module.parent.relative_to(package_dir).parts
    found: dict[str, Definition] = {}
    cache: dict[Path, dict[str, ast.AST]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            parts = list(here[: len(here) - (node.level - 1)] if node.level > 1 else here)
            dotted = ".".join([*parts, *(node.module.split(".") if node.module else [])])
        elif node.module and node.module.split(".")[0] == package:
            dotted = ".".join(node.module.split(".")[1:])
        else:
            continue
        target = _module_path(package_dir, dotted)
        if target is None or target == module:
            continue
        if target not in cache:
            cache[target] = _top_level_definitions(target)
        for alias in node.names:
            definition = cache[target].get(alias.name)
            if definition is not None:
                path = f"{package}/{target.relative_to(package_dir).as_posix()}"
                found[alias.asname or alias.name] = Definition(
                    alias.name, path, summarize(definition)
                )
    return found


@dataclass(frozen=True)
class Hole:
    task_id: str
    prefix: str
    suffix: str
    groundtruth: str
    names: tuple[str, ...]
    """The imported names in the file, most relevant to this hole first."""


def _line_offsets(source: str) -> list[int]:
    offsets = [0]
    for line in source.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    return offsets


def _cursor_after(node: ast.AST, names: dict[str, Definition], lines: list[str]) -> int | None:
    """Column (in characters) right after ``Name.`` or ``name(``, when ``node`` is one."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        head, marker = node.value, "."
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        head, marker = node.func, "("
    else:
        return None
    if head.id not in names or head.end_col_offset is None:
        return None
    line = lines[head.lineno - 1]
    column = len(line.encode("utf-8")[: head.end_col_offset].decode("utf-8", errors="ignore"))
    return column + 1 if line[column : column + 1] == marker else None


def _statements_in_functions(tree: ast.Module) -> list[ast.stmt]:
    """Every statement inside a function body (nested ones included), in source order."""
    found: list[ast.stmt] = []
    stack: list[tuple[ast.AST, bool]] = [(node, False) for node in tree.body]
    while stack:
        node, inside = stack.pop()
        if inside and isinstance(node, ast.stmt):
            found.append(node)
        enters = inside or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        stack += [(child, enters) for child in ast.iter_child_nodes(node)]
    return sorted(found, key=lambda stmt: (stmt.lineno, stmt.col_offset))


def find_holes(module: Path, package_dir: Path, names: dict[str, Definition]) -> Iterator[Hole]:
    """One hole per single-line statement inside a function that uses an imported name."""
    source = module.read_text(encoding="utf-8")
    lines = source.splitlines()
    offsets = _line_offsets(source)
    tree = ast.parse(source)
    rel = f"{package_dir.name}/{module.relative_to(package_dir).as_posix()}"
    usage: dict[str, list[int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            usage.setdefault(node.id, []).append(node.lineno)
    seen: set[int] = set()
    for stmt in _statements_in_functions(tree):
        if stmt.lineno != stmt.end_lineno or stmt.lineno in seen:
            continue
        columns = [_cursor_after(node, names, lines) for node in ast.walk(stmt)]
        line = lines[stmt.lineno - 1]
        usable = [c for c in columns if c is not None and len(line[c:].strip(")]} ")) >= 3]
        if not usable:
            continue
        seen.add(stmt.lineno)
        column = min(usable)
        before = line[:column]

        def relevance(name: str, row: int = stmt.lineno, before: str = before) -> tuple[bool, int]:
            # Names on the cursor line first, then the ones used closest to it.
            distance = min((abs(row - used) for used in usage.get(name, [])), default=10**9)
            return name not in before, distance

        yield Hole(
            task_id=f"crossfile/{rel}:{stmt.lineno}",
            prefix=source[: offsets[stmt.lineno - 1] + column],
            suffix=source[offsets[stmt.lineno - 1] + len(line) :],
            groundtruth=line[column:].rstrip(),
            names=tuple(sorted(names, key=relevance)),
        )


def _variants(
    benchmark: str,
    task_id: str,
    prefix: str,
    context_prefix: str,
    suffix: str,
    reference: str,
    with_context_too: bool,
    uri: str = "",
    context_root: str = "",
) -> list[Task]:
    variants = [("no-context", prefix)]
    if with_context_too:
        variants.insert(0, ("context", context_prefix))
    return [
        Task(
            uri=uri,
            context_root=context_root,
            cross_file=name == "context",
            task_id=f"{task_id}#{name}",
            benchmark=benchmark,
            language="python",
            prefix=text,
            suffix=suffix,
            program_head="",
            program_tail="",
            reference=reference,
            executable=False,
            group=f"{benchmark}/{name}",
        )
        for name, text in variants
    ]


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"package {name!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def load_crossfile(
    with_context_too: bool = True, packages: tuple[str, ...] = PACKAGES
) -> list[Task]:
    """Holes cut in ``packages``, each with and (unless disabled) without context."""
    tasks: list[Task] = []
    for package in packages:
        root = package_dir(package)
        for module in sorted(root.rglob("*.py")):
            names = imported_definitions(module, root)
            if not names:
                continue
            for hole in find_holes(module, root, names):
                tasks += _variants(
                    "crossfile",
                    hole.task_id,
                    hole.prefix,
                    hole.prefix,
                    hole.suffix,
                    hole.groundtruth,
                    with_context_too,
                    uri=module.resolve().as_uri(),
                    context_root=str(root.resolve()),
                )
    return tasks


def load_cceval(with_context_too: bool = True) -> list[Task]:
    """The CrossCodeEval sample: its retrieved ``crossfile_context`` text is the context."""
    path = benchdata_dir() / "cceval" / "granite-completebench_sample_python_inputs.jsonl"
    tasks: list[Task] = []
    budget = Budget()
    for row in read_jsonl(path):
        metadata = row["metadata"]
        if isinstance(metadata, str):  # some copies store it as a Python repr
            metadata = ast.literal_eval(metadata)
        context = row["crossfile_context"]["text"][:CONTEXT_CHARS]
        context = context[: context.rfind("\n") + 1]
        context_prefix = context + clip_prefix(row["prompt"], budget.prefix_chars - len(context))
        tasks += _variants(
            "cceval",
            f"cceval/{metadata['task_id']}",
            row["prompt"],
            context_prefix,
            row["right_context"],
            row["groundtruth"],
            with_context_too,
        )
    return tasks


_ENGINES: dict[tuple[str, bool], ContextEngine] = {}


def engine_for(root: str, cross_file: bool) -> ContextEngine:
    """One engine per package folder and variant, indexed once (synchronously)."""
    key = (root, cross_file)
    if key not in _ENGINES:
        engine = ContextEngine() if cross_file else ContextEngine(providers=[])
        engine.add_workspace_folder(root, background=False)
        _ENGINES[key] = engine
    return _ENGINES[key]


@contextmanager
def task_request(task: Task) -> Iterator[CompletionRequest]:
    """The request the editor would send for ``task``.

    A task cut from a real file is opened in its workspace's engine (as the editor opens
    the file: the hole's text is gone) for the time of the request, then closed again so
    that no task sees state left by another.
    """
    if not task.context_root:
        yield CompletionRequest(task.prefix, task.suffix, invoked=True, language_id=task.language)
        return
    engine = engine_for(task.context_root, task.cross_file)
    engine.open(task.uri, task.prefix + task.suffix, task.language)
    try:
        yield CompletionRequest(
            task.prefix,
            task.suffix,
            invoked=True,
            uri=task.uri,
            path=engine.display_path(task.uri),
            language_id=task.language,
            context=engine,
        )
    finally:
        engine.close(task.uri)
