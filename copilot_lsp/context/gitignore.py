"""The common subset of .gitignore rules: globs, ``**``, ``!`` negation, ``/`` anchoring,
trailing ``/`` for folders, and nested .gitignore files scoped to their folder."""

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
        elif char == "[":
            close = glob.find("]", index)
            if close == -1:
                out += re.escape(char)
            else:
                out += glob[index : close + 1].replace("[!", "[^")
                index = close
        else:
            out += re.escape(char)
        index += 1
    return ("^" if anchored else "^(?:.*/)?") + out + "$"


def parse(text: str, base: str = "") -> list[Rule]:
    rules = []
    for raw in text.splitlines():
        line = raw.rstrip()
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
        pattern = re.compile(_glob_to_regex(line, anchored))
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
