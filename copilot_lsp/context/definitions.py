"""Top-level definitions of a file, summarized for a prompt: signature plus doc comment,
or the whole definition when it is small. Python, JavaScript/TypeScript and Go."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, replace

import tree_sitter

from copilot_lsp.syntax import ParsedDocument, utf8

WHOLE_LINES = 6
"""Definitions up to this many lines are shown whole."""
MAX_LINES = 40
"""A summary is cut after this many lines."""
DOC_LINES = 6


@dataclass(frozen=True)
class Definition:
    name: str
    line: int
    """0-based line where it starts."""
    text: str
    default: bool = False
    """JavaScript/TypeScript: what the module's ``export default`` names."""


def _text(node: tree_sitter.Node) -> str:
    return node.text.decode("utf-8", errors="replace") if node.text else ""


def _head(source: bytes, node: tree_sitter.Node, body: tree_sitter.Node) -> str:
    return source[node.start_byte : body.start_byte].decode("utf-8", errors="replace").rstrip()


def _clip(text: str) -> str:
    lines = text.split("\n")
    return "\n".join(lines[:MAX_LINES] + (["..."] if len(lines) > MAX_LINES else []))


def _small(node: tree_sitter.Node) -> bool:
    return node.end_point[0] - node.start_point[0] < WHOLE_LINES


def _leading_comment(node: tree_sitter.Node) -> str:
    """Comment lines right above ``node`` (JSDoc, Go doc comments)."""
    lines: list[str] = []
    expected = node.start_point[0]
    sibling = node.prev_sibling
    while (
        sibling is not None and "comment" in sibling.type and sibling.end_point[0] >= expected - 1
    ):
        lines[:0] = _text(sibling).split("\n")
        expected = sibling.start_point[0]
        sibling = sibling.prev_sibling
    return "\n".join(lines[-DOC_LINES:]) + "\n" if lines else ""


def top_level(root: tree_sitter.Node) -> list[tree_sitter.Node]:
    """The root's statements, looking through ERROR nodes: while the user types (or when
    a benchmark cuts a line in half) an unclosed bracket can wrap most of the file in one
    ERROR node, and the complete statements inside it still count."""
    found: list[tree_sitter.Node] = []
    stack = list(reversed(root.named_children))
    while stack:
        node = stack.pop()
        if node.type == "ERROR":
            stack += reversed(node.named_children)
        else:
            found.append(node)
    return found


# --- Python ----------------------------------------------------------------------------


def _python_docstring(body: tree_sitter.Node | None, indent: str) -> list[str]:
    if body is None or not body.named_children:
        return []
    first = body.named_children[0]
    if first.type != "expression_statement" or not first.named_children:
        return []
    string = first.named_children[0]
    if string.type != "string":
        return []
    text = _text(string)
    paragraph = text.split("\n\n", 1)[0].strip()
    body = text.lstrip("rRbBuUfF")
    quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
    if not paragraph.endswith(quote):
        paragraph += quote
    lines = paragraph.split("\n")[:DOC_LINES]
    return [indent + line.strip() if i else indent + line for i, line in enumerate(lines)]


def _python_function(source: bytes, node: tree_sitter.Node, indent: str = "") -> list[str]:
    body = node.child_by_field_name("body")
    if body is None:
        return [indent + _text(node)]
    header = _head(source, node, body)
    docstring = _python_docstring(body, indent + "    ")
    return [indent + header, *docstring, indent + "    ..."]


def _python_class(source: bytes, node: tree_sitter.Node) -> list[str]:
    body = node.child_by_field_name("body")
    if body is None:
        return [_text(node)]
    lines = [_head(source, node, body), *_python_docstring(body, "    ")]
    for child in body.named_children:
        inner = (
            child.child_by_field_name("definition")
            if child.type == "decorated_definition"
            else child
        )
        if inner is None:
            continue
        if inner.type == "function_definition":
            name = _text(inner.child_by_field_name("name") or inner)
            if name.startswith("_") and name != "__init__":
                continue
            if child.type == "decorated_definition":
                lines += ["    " + _text(d) for d in child.named_children if d.type == "decorator"]
            # Methods: the signature on one line and the docstring's first line.
            header, *docstring = _python_function(source, inner, "    ")[:-1]
            lines.append("    " + " ".join(header.split()).replace("( ", "(").replace(", )", ")"))
            if docstring:
                first = docstring[0].rstrip()
                quote = first.strip()[:3]
                lines.append(
                    first if first.endswith(quote) and len(first.strip()) > 3 else first + quote
                )
        elif inner.type == "expression_statement" and "\n" not in _text(inner):
            statement = inner.named_children[0] if inner.named_children else None
            left = statement.child_by_field_name("left") if statement is not None else None
            public = left is not None and not _text(left).startswith("_")
            if statement is not None and statement.type == "assignment" and public:
                lines.append("    " + _text(inner))
    return lines


def _python(source: bytes, root: tree_sitter.Node) -> list[Definition]:
    found = []
    for child in top_level(root):
        node = (
            child.child_by_field_name("definition")
            if child.type == "decorated_definition"
            else child
        )
        if node is None:
            continue
        decorators = [_text(d) for d in child.named_children if d.type == "decorator"]
        if node.type in ("function_definition", "class_definition"):
            name = _text(node.child_by_field_name("name") or node)
            if _small(child):
                text = _text(child)
            elif node.type == "class_definition":
                text = "\n".join(decorators + _python_class(source, node)[: MAX_LINES * 2])
            else:
                text = "\n".join(decorators + _python_function(source, node))
            clipped = text if node.type == "class_definition" else _clip(text)
            found.append(Definition(name, child.start_point[0], clipped))
        elif node.type == "expression_statement" and node.named_children:
            assignment = node.named_children[0]
            left = (
                assignment.child_by_field_name("left") if assignment.type == "assignment" else None
            )
            if left is not None and left.type == "identifier" and _small(node):
                found.append(Definition(_text(left), node.start_point[0], _text(node)))
    return found


# --- JavaScript / TypeScript -----------------------------------------------------------

_JS_WHOLE = {"interface_declaration", "type_alias_declaration", "enum_declaration"}
_JS_CLASSES = {"class_declaration", "abstract_class_declaration", "class"}


def _js_members(source: bytes, body: tree_sitter.Node) -> list[str]:
    lines = []
    for member in body.named_children:
        name_node = member.child_by_field_name("name")
        name = _text(name_node) if name_node is not None else ""
        if name.startswith(("#", "_")):
            continue
        if member.type == "method_definition":
            method_body = member.child_by_field_name("body")
            head = _head(source, member, method_body) if method_body else _text(member)
            lines.append(f"  {head};")
        elif "field" in member.type or member.type == "property_signature":
            lines.append("  " + _text(member).split("\n")[0].rstrip(";") + ";")
    return lines


def _js_summary(source: bytes, node: tree_sitter.Node) -> str:
    if _small(node) or node.type in _JS_WHOLE:
        return _text(node)
    body = node.child_by_field_name("body")
    if node.type in _JS_CLASSES and body is not None:
        return "\n".join([_head(source, node, body) + " {", *_js_members(source, body), "}"])
    if body is not None:
        return _head(source, node, body) + " { ... }"
    if node.type == "lexical_declaration":
        for declarator in node.named_children:
            value = declarator.child_by_field_name("value")
            inner = value.child_by_field_name("body") if value is not None else None
            if inner is not None:
                return _head(source, node, inner) + " ..."
    return _text(node).split("\n")[0]


def _js_names(node: tree_sitter.Node) -> list[str]:
    if node.type == "lexical_declaration" or node.type == "variable_declaration":
        names = [d.child_by_field_name("name") for d in node.named_children]
        return [_text(n) for n in names if n is not None and n.type == "identifier"]
    name = node.child_by_field_name("name")
    return [_text(name)] if name is not None else []


_ANONYMOUS_DEFAULTS = {"function_expression", "arrow_function", "class"}
_DEFAULT_SPECIFIER = re.compile(r"\b(\w+)\s+as\s+default\b")
DEFAULT = "default"
"""Name of an anonymous ``export default`` value (a keyword, so no real name clashes)."""


def _is_default_export(node: tree_sitter.Node) -> bool:
    return node.type == "export_statement" and any(c.type == "default" for c in node.children)


def _default_names(child: tree_sitter.Node) -> list[str]:
    """Local names that ``export default name;`` or ``export { name as default }`` exports."""
    if child.type != "export_statement":
        return []
    value = child.child_by_field_name("value")
    if _is_default_export(child) and value is not None and value.type == "identifier":
        return [_text(value)]
    clauses = [c for c in child.named_children if c.type == "export_clause"]
    return [m.group(1) for c in clauses for m in _DEFAULT_SPECIFIER.finditer(_text(c))]


def _js_definition(source: bytes, child: tree_sitter.Node) -> list[Definition]:
    """Definitions of one top-level statement, ``export``/``export default`` included."""
    node, names = child, None
    default = _is_default_export(child)
    if child.type == "export_statement":
        node = child.child_by_field_name("declaration") or child
        value = child.child_by_field_name("value")
        if node is child and default and value is not None and value.type in _ANONYMOUS_DEFAULTS:
            node, names = value, [DEFAULT]
        elif node is child:
            return []
    names = names or _js_names(node)
    text = _leading_comment(child) + _js_summary(source, node)
    if child is not node:
        # "export " or "export default " before the declaration's first line.
        prefix = source[child.start_byte : node.start_byte].decode("utf-8", errors="replace")
        first = _text(node).split("\n")[0]
        text = text.replace(first, prefix + first, 1)
    return [Definition(name, child.start_point[0], _clip(text), default=default) for name in names]


def _javascript(source: bytes, root: tree_sitter.Node) -> list[Definition]:
    found: list[Definition] = []
    defaults: set[str] = set()
    for child in top_level(root):
        found += _js_definition(source, child)
        defaults.update(_default_names(child))
    return [replace(d, default=True) if d.name in defaults else d for d in found]


# --- Go --------------------------------------------------------------------------------


def _go(source: bytes, root: tree_sitter.Node) -> list[Definition]:
    found = []
    for node in top_level(root):
        comment = _leading_comment(node)
        if node.type in ("function_declaration", "method_declaration"):
            name = _text(node.child_by_field_name("name") or node)
            body = node.child_by_field_name("body")
            text = (
                _text(node)
                if _small(node) or body is None
                else _head(source, node, body) + " { ... }"
            )
            found.append(Definition(name, node.start_point[0], _clip(comment + text)))
        elif node.type in ("type_declaration", "const_declaration", "var_declaration"):
            for spec in node.named_children:
                name = spec.child_by_field_name("name")
                if name is not None:
                    found.append(
                        Definition(_text(name), node.start_point[0], _clip(comment + _text(node)))
                    )
    return found


# --- names the file binds itself -------------------------------------------------------

Binding = tuple[tree_sitter.Node | None, tree_sitter.Node | None]
"""A top-level binding: the name's node and, for an assignment, the value's."""


def _mentions(node: tree_sitter.Node, name: str) -> bool:
    """Whether ``name`` appears as an identifier in ``node``."""
    stack = [node]
    while stack:
        node = stack.pop()
        if node.type == "identifier" and _text(node) == name:
            return True
        stack += node.named_children
    return False


def _statement(node: tree_sitter.Node) -> tree_sitter.Node | None:
    """The expression of an expression statement (an assignment, maybe)."""
    if node.type == "expression_statement" and node.named_children:
        return node.named_children[0]
    return None


def _python_bindings(child: tree_sitter.Node) -> list[Binding]:
    node = (
        child.child_by_field_name("definition") if child.type == "decorated_definition" else child
    )
    if node is not None and node.type in ("function_definition", "class_definition"):
        return [(node.child_by_field_name("name"), None)]
    statement = _statement(node) if node is not None else None
    if statement is not None and statement.type == "assignment":
        right = statement.child_by_field_name("right")
        # ``parse: Callable`` alone declares a type and binds nothing.
        return [(statement.child_by_field_name("left"), right)] if right is not None else []
    return []


def _js_bindings(child: tree_sitter.Node) -> list[Binding]:
    node = child.child_by_field_name("declaration") if child.type == "export_statement" else child
    if node is None:
        return []
    if node.type in ("function_declaration", "generator_function_declaration", *_JS_CLASSES):
        return [(node.child_by_field_name("name"), None)]
    if node.type in ("lexical_declaration", "variable_declaration"):
        pairs = [
            (d.child_by_field_name("name"), d.child_by_field_name("value"))
            for d in node.named_children
        ]
        return [(name, value) for name, value in pairs if value is not None]
    statement = _statement(node)
    if statement is not None and statement.type == "assignment_expression":
        return [(statement.child_by_field_name("left"), statement.child_by_field_name("right"))]
    return []


_NAMES = ("identifier", "type_identifier")
_BINDINGS = {
    "python": _python_bindings,
    "javascript": _js_bindings,
    "typescript": _js_bindings,
    "tsx": _js_bindings,
}


def rebound(document: ParsedDocument, names: Collection[str]) -> dict[str, int]:
    """Which of ``names`` a top-level definition or assignment of the file binds, each with
    the 0-based line of its last binding: one after an import of the name shadows it. An
    assignment whose value uses the name (``parse = cache(parse)``) wraps the old value
    rather than replacing it, and does not count."""
    bindings = _BINDINGS.get(document.language)
    if bindings is None or document.tree is None or not names:
        return {}
    found: dict[str, int] = {}
    for child in top_level(document.tree.root_node):
        for target, value in bindings(child):
            # A name, not ``obj.attr = ...`` nor a destructuring pattern (a TS class's name
            # is a type_identifier).
            if target is None or target.type not in _NAMES or _text(target) not in names:
                continue
            if value is None or not _mentions(value, _text(target)):
                found[_text(target)] = child.start_point[0]
    return found


_EXTRACTORS = {
    "python": _python,
    "javascript": _javascript,
    "typescript": _javascript,
    "tsx": _javascript,
    "go": _go,
}


def definitions(document: ParsedDocument) -> list[Definition]:
    """The file's top-level definitions in source order ([] for unsupported languages)."""
    extract = _EXTRACTORS.get(document.language)
    if extract is None or document.tree is None:
        return []
    return extract(utf8(document.text), document.tree.root_node)
