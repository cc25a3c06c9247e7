"""Typing sessions to replay: real functions with their body blanked, typed back like a person.

Everything here is pure and seeded, so the optimized server and the naive baseline see
exactly the same keystrokes, pauses and requests.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from copilot_lsp.backends.base import common_prefix_length
from copilot_lsp.syntax import indentation

LANGUAGES = {".py": "python", ".js": "javascript", ".ts": "typescript", ".go": "go"}
_JS_HEADER = re.compile(
    r"^\s*(?!(if|for|while|switch|catch)\b)"
    r"(.*function\b.*|.*=>\s*|(async\s+)?[\w$]+\s*\(.*\))\s*\{\s*$"
)
_HEADER = {
    "python": re.compile(r"^\s*(async\s+)?def\s.*:\s*(#.*)?$"),
    "javascript": _JS_HEADER,
    "typescript": _JS_HEADER,
    "go": re.compile(r"^func\s.*\{\s*$"),
}
LIBRARY_MODULES = ("click.termui", "click.formatting", "attr._funcs", "tqdm.utils")
"""Installed libraries whose functions are typed back too (real code the model never saw
in this exact layout); looked up with importlib, never imported."""
PAUSE_AFTER = " \n(.,:=[{"
"""Characters after which a person tends to pause (and the editor asks for ghost text)."""


@dataclass(frozen=True)
class Task:
    """One function body to type back into its file."""

    name: str
    uri: str
    language_id: str
    text: str
    """The file with the body removed (what the editor shows when typing starts)."""
    cursor: int
    """Code-point offset where the body goes."""
    body: str


@dataclass(frozen=True)
class Keystroke:
    text: str
    """What one key press inserts (Enter inserts the newline and the auto-indentation)."""
    delay: float
    """Seconds since the previous key press (or since the previous answer was read)."""
    pause: bool
    """The person stops after this key: the editor asks for ghost text and they wait."""
    stale_request: bool
    """The editor asks after this key but the next key press makes the request stale."""


def find_bodies(text: str, language: str, low: int, high: int) -> list[tuple[int, int]]:
    """(start, end) offsets of function bodies of ``low``..``high`` characters.

    A body is the run of lines after a one-line header that are indented deeper than it.
    """
    header = _HEADER.get(language)
    if header is None:
        return []
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    bodies = []
    for number, line in enumerate(lines):
        if not header.match(line):
            continue
        depth = len(indentation(line))
        last = None
        for following in range(number + 1, len(lines)):
            candidate = lines[following]
            if candidate.strip() and len(indentation(candidate)) <= depth:
                break
            if candidate.strip():
                last = following
        if last is None:
            continue
        start, end = starts[number + 1], starts[last] + len(lines[last])
        if low <= end - start <= high:
            bodies.append((start, end))
    return bodies


def source_files(examples: Path) -> list[Path]:
    files = sorted(
        path
        for path in examples.rglob("*")
        if path.suffix in LANGUAGES and not path.name.startswith("test_")
    )
    for module in LIBRARY_MODULES:
        spec = find_spec(module)
        if spec is not None and spec.origin and spec.origin.endswith(".py"):
            files.append(Path(spec.origin))
    return files


def load_tasks(examples: Path, count: int, seed: int, low: int = 60, high: int = 220) -> list[Task]:
    """``count`` bodies, alternating between the examples and the installed libraries."""
    chooser = random.Random(seed)
    example_tasks: list[Task] = []
    library_tasks: list[Task] = []
    for path in source_files(examples):
        language = LANGUAGES[path.suffix]
        original = path.read_text(encoding="utf-8")
        inside = path.is_relative_to(examples.resolve()) or path.is_relative_to(examples)
        for start, end in find_bodies(original, language, low, high):
            name = f"{path.relative_to(examples) if inside else path.name}:{start}"
            # The editor auto-indents the first line: typing starts after the indentation.
            lead = indentation(original[start:end])
            task = Task(
                name=name,
                uri=path.resolve().as_uri(),
                language_id=language,
                text=original[: start + len(lead)] + original[end:],
                cursor=start + len(lead),
                body=original[start + len(lead) : end],
            )
            (example_tasks if inside else library_tasks).append(task)
    chooser.shuffle(example_tasks)
    chooser.shuffle(library_tasks)
    tasks = []
    while len(tasks) < count and (example_tasks or library_tasks):
        for pool in (example_tasks, library_tasks):
            if pool and len(tasks) < count:
                tasks.append(pool.pop())
    return tasks


def keystrokes(body: str, seed: int, stale_rate: float = 0.15) -> list[Keystroke]:
    """The key presses that type ``body``: ~110 ms apart, with pauses at word boundaries
    (at least every 30 characters); after a pause the person reads the answer first."""
    rng = random.Random(seed)
    keys: list[Keystroke] = []
    index = 0
    since_pause = 0
    paused = True  # the person arrives at the empty body and looks at the ghost text
    while index < len(body):
        if body[index] == "\n":
            indent = indentation(body[index + 1 :].split("\n", 1)[0])
            text = "\n" + indent
        else:
            text = body[index]
        index += len(text)
        since_pause += len(text)
        delay = min(max(rng.gauss(0.11, 0.04), 0.04), 0.3)
        if paused:
            delay = min(max(rng.gauss(0.6, 0.25), 0.25), 1.2)
        boundary = text[-1] in PAUSE_AFTER or text.startswith("\n")
        pause = index < len(body) and ((boundary and rng.random() < 0.3) or since_pause >= 30)
        if pause:
            since_pause = 0
        stale = not pause and index < len(body) and rng.random() < stale_rate
        keys.append(Keystroke(text, delay, pause, stale))
        paused = pause
    return keys


def matched_chars(suggestion: str, typed_next: str) -> int:
    """How many characters of the suggestion the person then typed themselves."""
    return common_prefix_length(suggestion, typed_next)


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None when empty; inf stays inf (timed-out requests)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]
