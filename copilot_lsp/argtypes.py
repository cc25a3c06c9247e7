"""argparse types shared by the commands: a bad number is a usage error (exit 2) naming
the option, never a traceback from deep inside a run."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any


def at_least(low: float, kind: type = int) -> Callable[[str], Any]:
    """A finite number of ``kind`` (int or float) no smaller than ``low``."""
    what = "a whole number" if kind is int else "a number"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or value < low:
            raise argparse.ArgumentTypeError(f"expected {what} of at least {low:g}, got {text!r}")
        return value

    return parse


def port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}")
    return int(text)
