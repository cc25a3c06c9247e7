"""Run untrusted generated programs, one subprocess tree per sample, and report how it went.

Layers of containment, each used when this machine allows it (see :func:`isolation`):

- resource limits set with ``resource.setrlimit`` in ``preexec_fn`` (address space, CPU
  seconds, file size, processes, open files, no core dumps);
- when running as root, the child drops to a dedicated unprivileged uid (one per concurrent
  run, so ``RLIMIT_NPROC`` -- which root ignores -- bounds a fork bomb to that run alone);
- ``unshare --net --pid --fork --kill-child`` (in a user namespace): no network interfaces
  but a down loopback, and every process of the run dies with its first one;
- ``unshare --mount`` as well where allowed: fresh size-limited tmpfs over /tmp, /var/tmp and
  /dev/shm (gone with the run), every other mount outside /proc, /sys and /dev read-only but
  the working directory, and the program itself in a nested user namespace without the
  capabilities to undo any of it. Where mount namespaces are not allowed, files the run's uid
  left in those three folders are removed after it;
- its own temporary working directory, removed afterwards; stdin closed; stdout and stderr
  captured to unnamed files and truncated; the process group killed on timeout.

Memory is bounded per process (``RLIMIT_AS``), so a run holds at most ``processes`` times
``memory_bytes``: 8 x 512 MiB for Python and C++ programs. Node and the JVM need more (V8
reserves ~1 GiB of address space; a JVM starts ~15 threads, and threads count as processes),
so their steps get at least the floors in :func:`_plan`.
"""

from __future__ import annotations

import functools
import os
import queue
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, Literal

Status = Literal["passed", "failed", "timeout", "error"]
LANGUAGES = ("python", "javascript", "cpp", "java")

_UID_BASE = 2_000_000_000
"""Unprivileged uids for sandboxed runs, far above real accounts and subuid ranges."""
_UID_SLOTS = 64
_SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm")
"""World-writable folders where a run could leave files behind for later runs."""
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
    memory_bytes: int = 512 << 20
    """RLIMIT_AS: virtual address space of each process."""
    file_bytes: int = 64 << 20
    """RLIMIT_FSIZE: largest file the program may write (its output files included)."""
    processes: int = 8
    """RLIMIT_NPROC: processes and threads of the run's uid. With ``memory_bytes`` it bounds
    the whole run's memory (processes x memory_bytes)."""
    tmp_bytes: int = 64 << 20
    """Size of each private tmpfs (/tmp, /var/tmp, /dev/shm) where mount namespaces work."""
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
    private_tmp: bool = False
    """A mount namespace gives each run its own /tmp, /var/tmp and /dev/shm and a read-only
    view of the rest (but its working directory)."""

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
_UNSHARE_MOUNT = (*_UNSHARE[:-1], "--mount", "--")

_PRIVATE_FS = r"""
import ctypes, os, re, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = (ctypes.c_char_p,) * 3 + (ctypes.c_ulong, ctypes.c_char_p)
RDONLY, NOSUID, NODEV, REMOUNT, BIND, NEWUSER = 1, 2, 4, 32, 4096, 0x10000000
KEPT = 2 | 4 | 8 | 1024 | 2048 | 4096  # nosuid nodev noexec noatime nodiratime relatime
def mount(source, target, fstype, flags, data=None):
    if libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                  flags, data and data.encode()):
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno), target)
def under(path, roots):
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)
size, masked, argv = sys.argv[1], sys.argv[2].split(":"), sys.argv[3:]
work = os.getcwd()
with open("/proc/self/mountinfo") as info:
    points = [re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), line.split()[4])
              for line in info]
masked = [d for d in masked if os.path.isdir(d) and not os.path.islink(d)]
for folder in masked:
    mount("tmpfs", folder, "tmpfs", NOSUID | NODEV, f"size={size},nr_inodes=16k,mode=1777")
os.makedirs(work, exist_ok=True)
mount(".", work, None, BIND)
for point in dict.fromkeys(points):
    if under(point, ["/proc", "/sys", "/dev", work, *masked]):
        continue
    try:
        flags = os.statvfs(point).f_flag & KEPT
        mount(None, point, None, REMOUNT | BIND | RDONLY | flags)
    except OSError:
        pass  # hidden or vanished mounts; "/" must not fail:
if not os.statvfs("/").f_flag & RDONLY:
    sys.exit("sandbox: could not make / read-only")
os.chdir(work)
if libc.unshare(NEWUSER):  # no capabilities left to unmount or remount anything
    sys.exit("sandbox: unshare(CLONE_NEWUSER) failed")
os.execvp(argv[0], argv)
"""
"""Run inside the new mount namespace, as root of its user namespace: tmpfs over the shared
temporary folders, the working directory bound where the run expects it, every other mount
read-only, then a nested user namespace so the program cannot unmount any of it."""


def _wrapper(isolation: Isolation, limits: Limits) -> tuple[str, ...]:
    if isolation.private_tmp:
        setup = (isolation.python, "-I", "-S", "-c", _PRIVATE_FS)
        return (*_UNSHARE_MOUNT, *setup, str(limits.tmp_bytes), ":".join(_SHARED_TMP))
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


def _probe(argv: list[str], uid: int | None, cwd: Path | None = None) -> bool:
    limits = Limits(timeout_s=10.0)
    try:
        probe = subprocess.run(
            argv,
            cwd=cwd,
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
        private_tmp = namespaces and _probe_private_tmp(python, uid)
    return Isolation(
        namespaces=namespaces, drop_privileges=drop, python=python, private_tmp=private_tmp
    )


def _probe_private_tmp(python: str, uid: int | None) -> bool:
    """Whether the mount-namespace wrapper works here: it must leave /tmp writable (a fresh
    tmpfs) and / read-only."""
    box = Isolation(namespaces=True, drop_privileges=uid is not None, python=python)
    box = replace(box, private_tmp=True)
    check = "import os; open('/tmp/probe', 'w').close(); assert not os.access('/', os.W_OK)"
    workdir = Path(tempfile.mkdtemp(prefix="copilot-lsp-eval-"))
    try:
        if uid is not None:
            os.chown(workdir, uid, uid)
        argv = [*_wrapper(box, Limits()), python, "-I", "-c", check]
        return _probe(argv, uid, cwd=workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _kill_uid(uid: int) -> None:
    """SIGKILL every process of ``uid``: kill(-1) sent by that uid reaches exactly those."""

    def sweep() -> None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        for _ in range(3):
            os.kill(-1, signal.SIGKILL)

    subprocess.run(["true"], preexec_fn=sweep, check=False)


def _remove_files_of(uid: int, roots: tuple[str, ...] = _SHARED_TMP) -> None:
    """Remove what ``uid`` left in the shared temporary folders (when runs share them).

    Only folders that uid could enter are searched: not its own (removed whole) nor
    world-searchable ones are pruned. Every step goes through directory descriptors, so a
    symlink swapped in meanwhile cannot redirect a removal elsewhere.
    """
    for root in roots:
        with suppress(OSError):
            for _top, subdirs, files, top_fd in os.fwalk(root):
                for name in [*subdirs, *files]:
                    with suppress(OSError):
                        info = os.stat(name, dir_fd=top_fd, follow_symlinks=False)
                        is_dir = stat.S_ISDIR(info.st_mode)
                        if info.st_uid == uid:
                            if is_dir:
                                shutil.rmtree(name, dir_fd=top_fd)
                            else:
                                os.unlink(name, dir_fd=top_fd)
                        if is_dir and (info.st_uid == uid or not info.st_mode & stat.S_IXOTH):
                            subdirs.remove(name)


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
        proc = _start(
            [*_wrapper(isolation, step.limits), *step.argv],
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
            if uid is not None:
                # Until the next step chowns it again, no other run lent this uid may enter.
                os.chown(workdir, os.getuid(), os.getgid())
                if not isolation.private_tmp:
                    _remove_files_of(uid)
        limit = step.limits.output_bytes
        stdout, stderr = _read_bounded(out, limit), _read_bounded(err, limit)
    return (None if timed_out else proc.returncode), stdout, stderr, timed_out


def _start(argv: list[str], **options: Any) -> subprocess.Popen[bytes]:
    """Popen, retried for a while when the uid is still at its process limit (EAGAIN at exec:
    the last run's processes may still be exiting, and the limit is only a few processes)."""
    deadline = time.monotonic() + 2.0
    while True:
        try:
            return subprocess.Popen(argv, **options)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


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
    """Write the program into ``workdir`` and list the commands that build and run it.

    Compilers, Node and the JVM get at least the memory and processes they need to start
    (V8 reserves ~1 GiB of address space; a JVM runs ~15 threads)."""
    compile_limits = _at_least(limits, 1 << 30, 8, timeout_s=60.0)
    if language == "python":
        (workdir / "main.py").write_text(program, encoding="utf-8")
        return [_Step((python, "-I", "main.py"), limits)]
    if language == "javascript":
        (workdir / "main.js").write_text(program, encoding="utf-8")
        return [_Step(("node", "main.js"), _at_least(limits, 1 << 30, 8))]
    if language == "cpp":
        (workdir / "main.cpp").write_text(program, encoding="utf-8")
        build = ("g++", "-std=c++17", "-O1", "-o", "main", "main.cpp", "-lcrypto")
        return [_Step(build, compile_limits, is_compile=True), _Step(("./main",), limits)]
    if language == "java":
        (workdir / "Main.java").write_text(program, encoding="utf-8")
        javac = ("javac", *(f"-J{flag}" for flag in _JVM_FLAGS), "-encoding", "UTF-8", "Main.java")
        java = ("java", *_JVM_FLAGS, "-ea", "-cp", ".", "Main")
        jvm = _at_least(limits, 768 << 20, 16)
        javac_limits = _at_least(jvm, compile_limits.memory_bytes, 16, timeout_s=60.0)
        return [_Step(javac, javac_limits, is_compile=True), _Step(java, jvm)]
    raise ValueError(f"unknown language {language!r}; choose one of {LANGUAGES}")


def _at_least(limits: Limits, memory: int, processes: int, timeout_s: float = 0.0) -> Limits:
    return replace(
        limits,
        memory_bytes=max(limits.memory_bytes, memory),
        processes=max(limits.processes, processes),
        timeout_s=max(limits.timeout_s, timeout_s),
    )


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
