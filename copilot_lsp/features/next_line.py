"""Where the cursor will be once the user accepts a suggestion and presses Enter.

The completion service computes the suggestion for that state in idle time, while the user
is still reading or typing the current one, so that the next line's ghost text is there
the moment they start it (llama.vim and Copilot speculate the same way).
"""

from __future__ import annotations

import re

from copilot_lsp.postprocess import indent_unit
from copilot_lsp.syntax import indentation, opens_block

_PYTHON_DEDENT = re.compile(r"(return|pass|raise|break|continue)\b")
"""Python lines after which editors indent the next line one level less."""


def auto_indent(line: str, unit: str, language: str | None = None) -> str:
    """The indentation an editor gives the line after ``line`` when Enter is pressed."""
    indent = indentation(line)
    if opens_block(line):
        return indent + unit
    if language == "python" and _PYTHON_DEDENT.match(line.strip()):
        return indent[: max(len(indent) - len(unit), 0)]
    return indent


def after_enter(prefix: str, text: str, suffix: str, language: str | None = None) -> str | None:
    """The text before the cursor after accepting ``text`` at the end of ``prefix`` and
    pressing Enter; None when the suggestion does not finish its line (code stays to the
    right of the cursor, so Enter would split it)."""
    if suffix.split("\n", 1)[0].strip():
        return None
    accepted = prefix + text
    line = accepted[accepted.rfind("\n") + 1 :]
    if not line.strip():
        return None
    unit = indent_unit(accepted[-4000:] + suffix[:2000])
    if unit is None:
        unit = "\t" if "\t" in indentation(line) else "    "
    return accepted + "\n" + auto_indent(line, unit, language)
