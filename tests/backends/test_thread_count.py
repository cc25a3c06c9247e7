"""How many cores llama.cpp takes: the ones no other process wants at that moment."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from copilot_lsp.backends.llamacpp import runnable_elsewhere, threads_for_now

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


def runnable_while_spinning(nice: int) -> int | None:
    """runnable_elsewhere() while two busy-looping processes at ``nice`` run."""
    spin = f"import os; os.nice({nice})\nwhile True: pass"
    spinners = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(2)]
    try:
        time.sleep(0.3)
        return runnable_elsewhere()
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def test_a_busy_process_elsewhere_is_counted() -> None:
    busy = runnable_while_spinning(nice=0)
    assert busy is not None and busy >= 2


def test_niced_background_work_is_not_counted() -> None:
    busy = runnable_while_spinning(nice=10)
    # Other jobs on a shared machine may run meanwhile, but not both spinners unnoticed.
    assert busy is not None and busy < 2


def test_the_cores_nobody_else_wants() -> None:
    assert threads_for_now(2, 0) == 2
    assert threads_for_now(2, 1) == 1
    assert threads_for_now(2, 5) == 1  # never fewer than one
    assert threads_for_now(4, None) == 4  # unknown: all of them
