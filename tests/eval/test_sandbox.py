"""The sandbox contains hostile programs, and correct solutions still pass in it."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from copilot_lsp.eval import sandbox
from copilot_lsp.eval.datasets import load_benchmark, select
from copilot_lsp.eval.sandbox import Limits, isolation, run_program, toolchain_missing

FAST = Limits(timeout_s=3.0, processes=32)
SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm")


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


def fallback_without_mounts() -> sandbox.Isolation:
    """This machine's isolation, less the mount namespace (as where it is not permitted)."""
    return replace(isolation(), private_tmp=False)


def remove_leftovers(token: str) -> None:
    for folder in SHARED_TMP:
        for path in Path(folder).glob(f"{token}*"):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


@pytest.mark.parametrize("mounts", ["private", "fallback"])
def test_shared_temporary_folders_keep_nothing_of_a_run(
    mounts: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if mounts == "private" and not isolation().private_tmp:
        pytest.skip("no mount namespace on this machine (the fallback case covers it)")
    if mounts == "fallback":
        if not isolation().drop_privileges:
            pytest.skip("the fallback removes files by the run's uid: needs root to switch uids")
        monkeypatch.setattr(sandbox, "isolation", fallback_without_mounts)
    token = f"copilot-lsp-sandbox-test-{uuid.uuid4().hex}"
    writer = f"""
import os
for folder in {SHARED_TMP!r}:
    os.makedirs(f"{{folder}}/{token}-dir/nested", exist_ok=True)
    os.chmod(f"{{folder}}/{token}-dir", 0o1777)  # sticky, as the reviewer's leftover was
    with open(f"{{folder}}/{token}-dir/nested/file", "w") as handle:
        handle.write("left behind")
    with open(f"{{folder}}/{token}-file", "wb") as handle:
        handle.write(bytes(1 << 20))
print("wrote")
"""
    reader = f"""
import os
for folder in {SHARED_TMP!r}:
    assert not os.path.exists(f"{{folder}}/{token}-file"), folder
    os.makedirs(f"{{folder}}/{token}-dir/nested", exist_ok=True)
"""
    try:
        written = run_program(writer, limits=FAST)
        assert written.status == "passed", written
        leftovers = [str(p) for f in SHARED_TMP for p in Path(f).glob(f"{token}*")]
        assert leftovers == []
        read = run_program(reader, limits=FAST)
        assert read.status == "passed", read
    finally:
        remove_leftovers(token)


def test_fallback_removes_only_the_runs_own_files(monkeypatch: pytest.MonkeyPatch) -> None:
    if not isolation().drop_privileges:
        pytest.skip("the fallback removes files by the run's uid: needs root to switch uids")
    monkeypatch.setattr(sandbox, "isolation", fallback_without_mounts)
    token = f"copilot-lsp-sandbox-test-{uuid.uuid4().hex}"
    ours = Path("/tmp") / f"{token}-harness"
    ours.mkdir(mode=0o777)
    ours.chmod(0o777)
    (ours / "keep.txt").write_text("harness file")
    try:
        program = f"open({str(ours / 'theirs.txt')!r}, 'w').write('x')\n"
        assert run_program(program, limits=FAST).status == "passed"
        assert (ours / "keep.txt").read_text() == "harness file"
        assert not (ours / "theirs.txt").exists()
    finally:
        remove_leftovers(token)


def test_a_run_cannot_fill_shared_memory() -> None:
    if not isolation().private_tmp:
        pytest.skip("no mount namespace on this machine: /dev/shm is shared (then swept)")
    token = f"copilot-lsp-sandbox-test-{uuid.uuid4().hex}"
    program = f"""
written = 0
try:
    for i in range(5):
        with open(f"/dev/shm/{token}-{{i}}", "wb") as handle:
            handle.write(bytes(30 << 20))
        written += 30
finally:
    print(written)
"""
    try:
        result = run_program(program, limits=FAST)
        assert result.status == "failed", result
        assert "No space left on device" in result.reason
        assert int(result.stdout) <= 64
    finally:
        remove_leftovers(token)


def test_the_rest_of_the_filesystem_is_read_only() -> None:
    if not isolation().private_tmp:
        pytest.skip("no mount namespace on this machine")
    # A world-writable folder outside the temporary folders, in the current directory when
    # the sample's uid can reach it (a checkout in a 0700 folder from mktemp -d: it would be
    # refused by permissions, not by the read-only mount), else at the root.
    here = Path.cwd()
    reachable = all(folder.stat().st_mode & 0o001 for folder in (here, *here.parents))
    open_dir = Path(
        tempfile.mkdtemp(prefix=".copilot-lsp-sandbox-test-", dir=here if reachable else "/")
    )
    open_dir.chmod(0o777)
    host_file = Path(tempfile.mkstemp(prefix="copilot-lsp-sandbox-test-")[1])
    host_file.chmod(0o644)
    program = f"""
import os, subprocess
assert not os.path.exists({str(host_file)!r}), "sees the host's /tmp"
for undo in (["umount", "/tmp"], ["umount", "-l", "/"], ["mount", "-o", "remount,rw", "/"]):
    subprocess.run(undo, capture_output=True)
open("scratch.txt", "w").write("the working directory stays writable")
open({str(open_dir / "escaped.txt")!r}, "w").write("x")
"""
    try:
        result = run_program(program, limits=FAST)
        assert result.status == "failed", result
        assert "Read-only file system" in result.reason
        assert list(open_dir.iterdir()) == []
    finally:
        shutil.rmtree(open_dir, ignore_errors=True)
        host_file.unlink(missing_ok=True)


def test_whole_run_memory_is_bounded() -> None:
    limits = Limits()
    assert limits.processes * limits.memory_bytes <= 4 << 30
    if not isolation().drop_privileges and os.geteuid() == 0:
        pytest.skip("as root without an unprivileged uid, RLIMIT_NPROC is not enforced")
    # Bounded: at most 20 children holding 100 MB each for a second (2 GB if unbounded).
    program = """
import os, time
made = []
for _ in range(20):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        block = bytes(100 << 20)
        time.sleep(1)
        os._exit(0)
    made.append(pid)
for pid in made:
    os.waitpid(pid, 0)
print(len(made))
"""
    result = run_program(program)
    assert result.status == "passed", result
    assert int(result.stdout) < limits.processes
    assert wait_until_gone() == []


def test_forked_children_cannot_each_take_gigabytes() -> None:
    # The reviewer's sample: three children holding 900 MB each (2.7 GB) passed.
    program = """
import os
kids = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        block = b"\\x01" * (900 << 20)
        os._exit(0)
    kids.append(pid)
assert all(os.waitpid(pid, 0)[1] == 0 for pid in kids), "a child could not allocate"
"""
    result = run_program(program, limits=FAST)
    assert result.status == "failed", result
    assert wait_until_gone() == []
