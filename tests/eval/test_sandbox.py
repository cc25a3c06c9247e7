"""The sandbox contains hostile programs, and correct solutions still pass in it."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from copilot_lsp.eval import sandbox
from copilot_lsp.eval.datasets import load_benchmark, select
from copilot_lsp.eval.sandbox import Limits, isolation, run_program, toolchain_missing

FAST = Limits(timeout_s=3.0, processes=32)


def sandbox_processes() -> list[int]:
    """Processes still running (not zombies) under one of the sandbox uids."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = dict(
                line.split(":", 1) for line in (entry / "status").read_text().splitlines()
            )
        except (OSError, ValueError):
            continue
        uid = int(status["Uid"].split()[0])
        if uid >= sandbox._UID_BASE and not status["State"].strip().startswith("Z"):
            found.append(int(entry.name))
    return found


def wait_until_gone(deadline_s: float = 5.0) -> list[int]:
    end = time.monotonic() + deadline_s
    while (left := sandbox_processes()) and time.monotonic() < end:
        time.sleep(0.05)
    return left


def test_pass_and_fail() -> None:
    assert run_program("assert 1 + 1 == 2\n").status == "passed"
    failed = run_program("assert 1 + 1 == 3, 'arithmetic'\n")
    assert failed.status == "failed"
    assert failed.reason == "AssertionError: arithmetic"


def test_infinite_loop_times_out() -> None:
    started = time.perf_counter()
    result = run_program("while True:\n    pass\n", limits=Limits(timeout_s=1.0))
    assert result.status == "timeout"
    assert time.perf_counter() - started < 5


def test_huge_allocation_is_refused() -> None:
    result = run_program("block = bytearray(8 << 30)\nprint('allocated')\n")
    assert result.status == "failed"
    assert "MemoryError" in result.reason
    assert "allocated" not in result.stdout


@pytest.mark.skipif(
    not isolation().drop_privileges and os.geteuid() == 0,
    reason="as root without an unprivileged uid, RLIMIT_NPROC is not enforced",
)
def test_fork_bomb_is_bounded_and_cleaned_up() -> None:
    # First a bounded probe: at most 200 forks, each child sleeping briefly. If the process
    # limit did not hold, stop here instead of letting a real fork bomb loose.
    probe = """
import os, time
made = 0
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(0.5)
        os._exit(0)
    made += 1
print(made)
"""
    bounded = run_program(probe, limits=FAST)
    assert bounded.status == "passed", bounded
    assert int(bounded.stdout) < FAST.processes, "RLIMIT_NPROC did not bound the probe"
    bomb = """
import os
while True:
    try:
        if os.fork() == 0:
            os.setsid()  # try to escape the process group
    except OSError:
        pass
"""
    result = run_program(bomb, limits=Limits(timeout_s=2.0, processes=32))
    assert result.status in ("timeout", "failed")
    assert wait_until_gone() == []
    assert run_program("print('still fine')\n").stdout == "still fine\n"


def test_background_child_does_not_outlive_the_run() -> None:
    program = """
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
print("parent done")
"""
    result = run_program(program, limits=FAST)
    assert result.status == "passed"
    assert wait_until_gone() == []


def test_cannot_delete_a_file_outside_its_directory(tmp_path: Path) -> None:
    sentinel = tmp_path / "sentinel.txt"
    sentinel.write_text("keep me")
    result = run_program(f"import os\nos.remove({str(sentinel)!r})\n")
    assert result.status == "failed"
    assert sentinel.read_text() == "keep me"


def test_cannot_reach_the_network() -> None:
    if not isolation().network_isolated:
        pytest.skip("no network namespace on this machine")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        program = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        result = run_program(program)
        server.setblocking(False)
        with pytest.raises(BlockingIOError):
            server.accept()  # a connection would be waiting in the backlog
    assert result.status == "failed"
    assert result.network_isolated


@pytest.mark.skipif(not isolation().drop_privileges, reason="needs root to switch uids")
def test_without_namespaces_the_uid_sweep_cleans_up(monkeypatch: pytest.MonkeyPatch) -> None:
    fallback = sandbox.Isolation(namespaces=False, drop_privileges=True, python=isolation().python)
    monkeypatch.setattr(sandbox, "isolation", lambda: fallback)
    program = """
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
"""
    result = run_program(program, limits=FAST)
    assert result.status == "passed"
    assert not result.network_isolated
    assert wait_until_gone() == []


def test_working_directory_is_private_and_removed() -> None:
    result = run_program("import os\nprint(os.getcwd())\nopen('scratch.txt', 'w').write('x')\n")
    workdir = Path(result.stdout.strip())
    assert result.status == "passed"
    assert workdir.name.startswith("copilot-lsp-eval-")
    assert not workdir.exists()


def test_stdin_is_closed_and_output_is_bounded() -> None:
    result = run_program("import sys\nprint(repr(sys.stdin.read()))\nprint('x' * 100000)\n")
    assert result.status == "passed"
    assert result.stdout.startswith("''\n")
    assert len(result.stdout) <= Limits().output_bytes + 100


@pytest.mark.parametrize(
    ("language", "good", "bad"),
    [
        ("javascript", "console.assert(1 + 1 === 2)", "console.assert(1 + 1 === 3)"),
        ("cpp", "int main() { return 0; }", "int main() { return missing; }"),
        (
            "java",
            "public class Main { public static void main(String[] a) {} }",
            "public class Main { public static void main(String[] a) "
            "{ throw new AssertionError(); } }",
        ),
    ],
)
def test_other_languages(language: str, good: str, bad: str) -> None:
    if toolchain_missing(language):
        pytest.skip(f"no {language} toolchain")
    assert run_program(good, language).status == "passed"
    assert run_program(bad, language).status == "failed"


@pytest.mark.parametrize(
    "benchmark", ["humaneval", "single-line", "multi-line", "random-span", "random-span-light"]
)
def test_canonical_solutions_pass_and_empty_completions_fail(benchmark: str) -> None:
    for task in select(load_benchmark(benchmark), limit=4, seed=7):
        assert run_program(task.program(task.reference)).status == "passed", task.task_id
        assert run_program(task.program("")).status == "failed", task.task_id
