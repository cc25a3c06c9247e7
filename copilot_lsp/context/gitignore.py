"""The common subset of .gitignore rules: globs, ``**``, ``!`` negation, ``/`` anchoring,
trailing ``/`` for folders, backslash escapes, and nested .gitignore files scoped to their
folder."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    base: str
    """Folder of the .gitignore, relative to the root ("" for the root)."""
    pattern: re.Pattern[str]
    negated: bool
    folders_only: bool


def _bracket_to_regex(glob: str, start: int) -> tuple[str, int] | None:
    """The regex class for the ``[...]`` at ``start`` and the index after its ``]``;
    None when it is not closed (then ``[`` is a literal character)."""
    index = start + 1
    out = "["
    if index < len(glob) and glob[index] in "!^":
        out += "^/"  # a negated class never matches the folder separator
        index += 1
    first = True
    while index < len(glob):
        char = glob[index]
        if char == "]" and not first:
            return out + "]", index + 1
        if char == "\\" and index + 1 < len(glob):
            index += 1
            char = glob[index]
        out += char if char == "-" else re.escape(char)
        first = False
        index += 1
    return None


def _glob_to_regex(glob: str, anchored: bool) -> str:
    out = ""
    index = 0
    while index < len(glob):
        char = glob[index]
        if glob.startswith("**/", index):
            out += "(?:.*/)?"
            index += 3
            continue
        if glob.startswith("**", index):
            out += ".*"
            index += 2
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "\\" and index + 1 < len(glob):
            index += 1
            out += re.escape(glob[index])
        elif char == "[" and (bracket := _bracket_to_regex(glob, index)) is not None:
            out += bracket[0]
            index = bracket[1]
            continue
        else:
            out += re.escape(char)
        index += 1
    return ("^" if anchored else "^(?:.*/)?") + out + "$"


def _trim_trailing_spaces(line: str) -> str:
    """Git drops trailing spaces unless the last one is escaped (``a\\ `` is ``a ``)."""
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        return stripped + " "
    return stripped


def parse(text: str, base: str = "") -> list[Rule]:
    """The rules of a .gitignore; a pattern that is not a valid glob (``[z-a]``) matches
    nothing, as in git, instead of failing the whole file."""
    rules = []
    for raw in text.splitlines():
        line = _trim_trailing_spaces(raw)
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if negated:
            line = line[1:]
        folders_only = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line
        line = line.lstrip("/")
        if not line:
            continue
        try:
            pattern = re.compile(_glob_to_regex(line, anchored))
        except re.error:
            continue
        rules.append(Rule(base, pattern, negated, folders_only))
    return rules


def ignored(rules: list[Rule], path: str, is_folder: bool) -> bool:
    """Whether ``path`` (relative to the root, ``/``-separated) is ignored; last rule wins."""
    result = False
    for rule in rules:
        if rule.base:
            if not path.startswith(rule.base + "/"):
                continue
            relative = path[len(rule.base) + 1 :]
        else:
            relative = path
        if rule.folders_only and not is_folder:
            continue
        if rule.pattern.match(relative):
            result = not rule.negated
    return result
