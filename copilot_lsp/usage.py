"""The local usage log: completions served, suggestions shown, accepted and rejected.

One JSON object per line in ``<state dir>/usage.jsonl`` (``$COPILOT_LSP_STATE_DIR``, else
``$XDG_STATE_HOME/copilot-lsp``, else ``~/.local/state/copilot-lsp``). It never leaves the
machine, and holds no source text unless the user opts in (``usageLogText``): only sizes,
timings, the language and where the answer came from. ``copilot-lsp stats`` reads it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
LOG_NAME = "usage.jsonl"
MAX_BYTES = 20_000_000
"""The log is rotated (one previous file kept) when it grows past this."""


def state_dir() -> Path:
    override = os.environ.get("COPILOT_LSP_STATE_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "copilot-lsp"


def default_log_path() -> Path:
    return state_dir() / LOG_NAME


class UsageLog:
    """Appends events; a write failure is logged once and never reaches the editor."""

    def __init__(self, path: Path | None = None, enabled: bool = True) -> None:
        self.path = path or default_log_path()
        self.enabled = enabled
        self.include_text = False
        self._lock = threading.Lock()
        self._failed = False

    def record(self, event: str, **fields: Any) -> None:
        if not self.enabled:
            return
        if not self.include_text:
            fields.pop("text", None)
        entry = {"time": round(time.time(), 3), "event": event, **fields}
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if self.path.is_file() and self.path.stat().st_size > MAX_BYTES:
                    self.path.replace(self.path.with_suffix(".jsonl.1"))
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        except OSError as error:
            if not self._failed:
                log.warning("usage log %s not writable: %s", self.path, error)
            self._failed = True


FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "event": (str,),
    "id": (str,),
    "offer": (str, type(None)),
    "source": (str,),
    "latency_ms": (int, float),
}
"""The types of the fields ``copilot-lsp stats`` reads (an event may leave any but
``event`` out)."""


def _well_formed(entry: Any) -> bool:
    """Whether ``entry`` is an event whose known fields have their types."""
    if not isinstance(entry, dict) or "event" not in entry:
        return False
    for name, types in FIELD_TYPES.items():
        value = entry.get(name)
        if name in entry and (not isinstance(value, types) or isinstance(value, bool)):
            return False
    return "latency_ms" not in entry or _finite(entry["latency_ms"])


def _finite(value: float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer too large for a float
        return False


def read_events(path: Path) -> list[dict[str, Any]]:
    """The events in ``path``; lines that do not parse are skipped (not UTF-8, not JSON, or
    an event whose fields have the wrong types: a damaged log still gives its figures)."""
    events = []
    with path.open("rb") as handle:
        for raw in handle:
            try:
                entry = json.loads(raw.decode("utf-8"))
            except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested too deep
                continue
            if _well_formed(entry):
                events.append(entry)
    return events
