"""What every benchmark loader produces: a :class:`Task` (an editor state and how to check
a completion), where the shared benchmark data lives, and how its JSON-lines files are
read (here, so that crossfile.py, which datasets.py imports, reads them the same way)."""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class DatasetError(RuntimeError):
    """A benchmark's data or toolchain is not available."""


@dataclass(frozen=True)
class Task:
    task_id: str
    benchmark: str
    language: str
    """python, javascript, cpp or java: which sandbox toolchain runs the test program."""
    prefix: str
    suffix: str
    program_head: str
    """Test program text before the completion."""
    program_tail: str
    """Test program text after the completion (suffix, tests, the call that runs them)."""
    entry_point: str = ""
    reference: str = ""
    """The expected middle (canonical solution or ground truth)."""
    executable: bool = True
    """False for benchmarks scored by exact match / edit similarity instead of tests."""
    group: str = ""
    """Reported separately in the summary (e.g. with or without cross-file context)."""
    uri: str = ""
    """The file the hole is in (``file:`` URI), for tasks cut from real files."""
    context_root: str = ""
    """Workspace folder the context engine indexes for this task ("" for none)."""
    cross_file: bool = False
    """Whether the engine's cross-file snippet providers are on for this task."""

    @property
    def problem(self) -> str:
        """The task id without its variant (``...#context``)."""
        return self.task_id.split("#", 1)[0]

    def program(self, completion: str) -> str:
        return self.program_head + completion + self.program_tail


def benchdata_dir() -> Path:
    """``$COPILOT_LSP_BENCHDATA``, else ``shared/benchdata`` beside the project root."""
    override = os.environ.get("COPILOT_LSP_BENCHDATA")
    if override:
        return Path(override)
    project_root = Path(__file__).resolve().parents[2]
    return project_root.parent / "shared" / "benchdata"


def _parse(line: str, path: Path, number: int) -> dict[str, Any]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise DatasetError(f"{path}, line {number}: not valid JSON ({error})") from error
    if not isinstance(row, dict):
        raise DatasetError(f"{path}, line {number}: not a JSON object")
    return row


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a JSON-lines file (gzip-compressed when it ends in ``.gz``); a file
    that cannot be read or parsed raises :class:`DatasetError` naming it and the line."""
    if not path.is_file():
        raise DatasetError(f"benchmark data not found: {path} (set COPILOT_LSP_BENCHDATA)")
    opener = gzip.open if path.suffix == ".gz" else open
    number = 0
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    yield _parse(line, path, number)
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as error:
        raise DatasetError(
            f"{path}: cannot be read after line {number} ({type(error).__name__}: {error})"
        ) from error
