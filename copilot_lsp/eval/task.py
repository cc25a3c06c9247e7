"""What every benchmark loader produces: a :class:`Task` (an editor state and how to check
a completion), and where the shared benchmark data lives."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


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
