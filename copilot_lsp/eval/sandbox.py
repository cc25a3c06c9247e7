"""Run untrusted generated programs, one subprocess tree per sample, and report how it went.

Layers of containment, each used when this machine allows it (see :func:`isolation`):

- resource limits set with ``resource.setrlimit`` in ``preexec_fn`` (address space, CPU
  seconds, file size, processes, open files, no core dumps);
- when running as root, the child drops to a dedicated unprivileged uid (one per concurrent
  run, so ``RLIMIT_NPROC`` -- which root ignores -- bounds a fork bomb to that run alone);
- ``unshare --net --pid --fork --kill-child`` (in a user namespace): no network interfaces
  but a down loopback, and every process of the run dies with its first one;
- its own temporary working directory, removed afterwards; stdin closed; stdout and stderr
  captured to unnamed files and truncated; the process group killed on timeout.
"""

from __future__ import annotations

import functools
import os
import queue
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Literal

Status = Literal["passed", "failed", "timeout", "error"]
LANGUAGES = ("python", "javascript", "cpp", "java")

_UID_BASE = 2_000_000_000
"""Unprivileged uids for sandboxed runs, far above real accounts and subuid ranges."""
_UID_SLOTS = 64
_JVM_FLAGS = (
    "-Xmx256m",
    "-Xss8m",
    "-XX:ReservedCodeCacheSize=64m",
    "-XX:CompressedClassSpaceSize=64m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
)


@dataclass(frozen=True)
class Limits:
    """Bounds for one step (compile or run) of one sample."""

    timeout_s: float = 10.0
    memory_bytes: int = 2 << 30
    """RLIMIT_AS: virtual address space."""
    file_bytes: int = 64 << 20
    """RLIMIT_FSIZE: largest file the program may write (its output files included)."""
    processes: int = 64
    """RLIMIT_NPROC: processes and threads of the run's uid (JVMs need a few dozen threads)."""
    open_files: int = 256
    output_bytes: int = 4096
    """How much of stdout and of stderr is kept."""


@dataclass(frozen=True)
class Isolation:
    """What containment this machine provides beyond resource limits."""

    namespaces: bool
    """Network and pid namespaces via ``unshare`` are active."""
    drop_privileges: bool
    """Children run as a dedicated unprivileged uid (only possible when we are root)."""
    python: str
    """The interpreter that runs Python samples (one the sandbox uid may execute)."""

    @property
    def network_isolated(self) -> bool:
        return self.namespaces


@dataclass(frozen=True)
class ExecResult:
    status: Status
    reason: str
    """Short explanation: the exception's last line, "timeout after 10s", ..."""
    seconds: float
    stdout: str = ""
    stderr: str = ""
    returncode: int | None = None
    network_isolated: bool = False

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(frozen=True)
class _Step:
    argv: tuple[str, ...]
    limits: Limits
    is_compile: bool = False


_uids: queue.Queue[int] = queue.Queue()
for _slot in range(_UID_SLOTS):
    _uids.put(_UID_BASE + _slot)


@contextmanager
def _run_uid(enabled: bool) -> Iterator[int | None]:
    """Lend a uid that no other run uses at the same time (None when not dropping)."""
    if not enabled:
        yield None
        return
    uid = _uids.get()
    try:
        yield uid
    finally:
        _uids.put(uid)


def _own_thread_count() -> int:
    """Processes and threads running under our uid (they count towards RLIMIT_NPROC)."""
    uid = os.getuid()
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = dict(
                line.split(":", 1) for line in (entry / "status").read_text().splitlines()
            )
        except (OSError, ValueError):
            continue
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            total += int(fields.get("Threads", "1"))
    return total


def _preexec(limits: Limits, uid: int | None, nproc: int) -> Callable[[], None]:
    """What the child does between fork and exec: limits first, then give up root."""
    cpu = int(limits.timeout_s) + 1
    settings = (
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_NPROC, nproc),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    )

    def apply() -> None:
        os.nice(10)  # the model generating the next completion keeps priority
        for which, value in settings:
            resource.setrlimit(which, (value, value))
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)

    return apply


_UNSHARE = ("unshare", "--map-root-user", "--net", "--pid", "--fork", "--kill-child", "--")


def _wrapper(isolation: Isolation) -> tuple[str, ...]:
    return _UNSHARE if isolation.namespaces else ()


def _nproc_limit(limits: Limits, uid: int | None) -> int:
    # A dedicated uid starts from zero; our own uid already runs this harness's threads.
    return limits.processes if uid is not None else _own_thread_count() + limits.processes


def _python_candidates() -> list[str]:
    found = [
        sys.executable,
        getattr(sys, "_base_executable", ""),
        os.path.realpath(sys.executable),
        "/usr/bin/python3",
        shutil.which("python3") or "",
    ]
    return [path for path in dict.fromkeys(found) if path]


def _probe(argv: list[str], uid: int | None) -> bool:
    limits = Limits(timeout_s=10.0)
    try:
        probe = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=limits.timeout_s,
            preexec_fn=_preexec(limits, uid, _nproc_limit(limits, uid)),
            start_new_session=True,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


@functools.cache
def isolation() -> Isolation:
    """Probe once which containment works here.

    As root, children drop to an unprivileged uid, which may not be able to run this
    virtualenv's interpreter (say, one under /root): the first interpreter that works as that
    uid is used, and privileges are kept only when none does. ``unshare`` may be missing or
    forbidden (no user namespaces); then there is no network isolation.
    """
    drop = os.geteuid() == 0
    python = sys.executable
    with _run_uid(drop) as uid:
        if drop:
            usable = [p for p in _python_candidates() if _probe([p, "-I", "-c", "pass"], uid)]
            drop = bool(usable)
            python = usable[0] if usable else sys.executable
            uid = uid if drop else None
        namespaces = bool(shutil.which("unshare")) and _probe(
            [*_UNSHARE, python, "-I", "-c", "pass"], uid
        )
    return Isolation(namespaces=namespaces, drop_privileges=drop, python=python)


def _kill_uid(uid: int) -> None:
    """SIGKILL every process of ``uid``: kill(-1) sent by that uid reaches exactly those."""

    def sweep() -> None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        for _ in range(3):
            os.kill(-1, signal.SIGKILL)

    subprocess.run(["true"], preexec_fn=sweep, check=False)


def _read_bounded(handle: IO[bytes], limit: int) -> str:
    handle.seek(0)
    data = handle.read(limit + 1)
    text = data[:limit].decode("utf-8", errors="replace")
    return text + "\n[... truncated]" if len(data) > limit else text


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def _run_step(
    step: _Step, workdir: Path, env: dict[str, str], isolation: Isolation
) -> tuple[int | None, str, str, bool]:
    """Run one command; returns (returncode or None on timeout, stdout, stderr, timed out)."""
    with (
        _run_uid(isolation.drop_privileges) as uid,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        if uid is not None:
            _chown_tree(workdir, uid)
        proc = subprocess.Popen(
            [*_wrapper(isolation), *step.argv],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            preexec_fn=_preexec(step.limits, uid, _nproc_limit(step.limits, uid)),
            start_new_session=True,
            close_fds=True,
        )
        try:
            timed_out = not _wait_unreaped(proc.pid, step.limits.timeout_s)
        finally:
            # Whatever the outcome, nothing of this run may outlive it. The leader is not
            # reaped yet, so its process group id cannot have been reused.
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            if uid is not None and not isolation.namespaces:
                _kill_uid(uid)
        limit = step.limits.output_bytes
        stdout, stderr = _read_bounded(out, limit), _read_bounded(err, limit)
    return (None if timed_out else proc.returncode), stdout, stderr, timed_out


def _wait_unreaped(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``pid`` to exit, leaving it a zombie (unreaped)."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.02)
    return True


def _chown_tree(root: Path, uid: int) -> None:
    os.chown(root, uid, uid)
    for path in root.rglob("*"):
        os.chown(path, uid, uid, follow_symlinks=False)


def _plan(language: str, program: str, workdir: Path, limits: Limits, python: str) -> list[_Step]:
    """Write the program into ``workdir`` and list the commands that build and run it."""
    compile_limits = replace(limits, timeout_s=max(limits.timeout_s, 60.0))
    if language == "python":
        (workdir / "main.py").write_text(program, encoding="utf-8")
        return [_Step((python, "-I", "main.py"), limits)]
    if language == "javascript":
        (workdir / "main.js").write_text(program, encoding="utf-8")
        return [_Step(("node", "main.js"), limits)]
    if language == "cpp":
        (workdir / "main.cpp").write_text(program, encoding="utf-8")
        build = ("g++", "-std=c++17", "-O1", "-o", "main", "main.cpp", "-lcrypto")
        return [_Step(build, compile_limits, is_compile=True), _Step(("./main",), limits)]
    if language == "java":
        (workdir / "Main.java").write_text(program, encoding="utf-8")
        javac = ("javac", *(f"-J{flag}" for flag in _JVM_FLAGS), "-encoding", "UTF-8", "Main.java")
        java = ("java", *_JVM_FLAGS, "-ea", "-cp", ".", "Main")
        return [_Step(javac, compile_limits, is_compile=True), _Step(java, limits)]
    raise ValueError(f"unknown language {language!r}; choose one of {LANGUAGES}")


def toolchain_missing(language: str) -> list[str]:
    """The programs ``language`` needs that are not on PATH."""
    needed = {"python": [], "javascript": ["node"], "cpp": ["g++"], "java": ["javac", "java"]}
    return [tool for tool in needed[language] if shutil.which(tool) is None]


def _first_error_line(language: str, text: str) -> str:
    """The line that says what went wrong: a Python traceback ends with it; compilers and
    JVMs put it first (``main.cpp:3:5: error: ...``, ``Exception in thread "main" ...``)."""
    if language != "python":
        for line in text.splitlines():
            if any(marker in line for marker in ("error:", "Exception", "Error")):
                return line.strip()[:200]
    return _last_line(text)


def _failure_reason(language: str, returncode: int, stderr: str, stdout: str) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}" + (" (CPU limit)" if name == "SIGXCPU" else "")
    found = _first_error_line(language, stderr) or _last_line(stdout)
    return found or f"exit status {returncode}"


def run_program(program: str, language: str = "python", limits: Limits = Limits()) -> ExecResult:
    """Build and run ``program``; it passes when it exits 0 (and, for JavaScript, when no
    ``console.assert`` failed)."""
    started = time.perf_counter()
    box = isolation()
    missing = toolchain_missing(language)
    if missing:
        return ExecResult("error", f"not on PATH: {', '.join(missing)}", 0.0)
    workdir = Path(tempfile.mkdtemp(prefix="copilot-lsp-eval-"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
    }

    def finish(status: Status, reason: str, code: int | None, out: str, err: str) -> ExecResult:
        seconds = time.perf_counter() - started
        return ExecResult(status, reason, seconds, out, err, code, box.network_isolated)

    try:
        for step in _plan(language, program, workdir, limits, box.python):
            code, out, err, timed_out = _run_step(step, workdir, env, box)
            what = "compile" if step.is_compile else "run"
            if timed_out:
                return finish(
                    "timeout", f"{what} timeout after {step.limits.timeout_s:g}s", None, out, err
                )
            if code != 0:
                reason = _failure_reason(language, code or 0, err, out)
                return finish(
                    "failed", f"{what}: {reason}" if step.is_compile else reason, code, out, err
                )
            if language == "javascript" and "Assertion failed" in err:
                return finish("failed", _last_line(err), code, out, err)
        return finish("passed", "", 0, out, err)
    except (OSError, subprocess.SubprocessError) as error:
        return finish("error", f"sandbox: {error}", None, "", "")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
