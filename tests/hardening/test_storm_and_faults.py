"""A cancellation storm, faults (model missing or corrupt, client gone mid-request) and the
security promises (local listeners, token, no source text in logs or on the network)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hardening.raw import PROGRAM, RawServer, frame, message

REQUEST_CANCELLED = -32800
PRIMES = "# The first 300 prime numbers, one per line.\nPRIMES = [\n    2,\n    "


def completion(uri: str, line: int, character: int, kind: int = 2) -> dict:
    return {
        "textDocument": {"uri": uri},
        "position": {"line": line, "character": character},
        "context": {"triggerKind": kind},
    }


def inet_sockets(pid: int) -> list[str]:
    """The process's TCP/UDP sockets (asyncio's own socketpair is a Unix socket)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        for row in path.read_text().splitlines()[1:] if path.exists() else []:
            fields = row.split()
            if fields[9] in inodes:
                found.append(f"{table} {fields[1]} -> {fields[2]}")
    return found


@pytest.fixture
def fast_server(tmp_path: Path):
    raw = RawServer(stderr_path=tmp_path / "server.log")
    raw.initialize({"model": "fast"}, load_model=True)
    assert raw.wait_ready()["state"] == "ready"
    yield raw
    raw.close()


@pytest.mark.model
def test_cancellation_storm(fast_server: RawServer) -> None:
    """2000 keystrokes, each with a request that cancels the previous one (as an editor
    does while typing): every request is answered, nothing leaks, the next one works."""
    server = fast_server
    uri = "file:///storm.py"
    text = "def total(values):\n    "
    server.open(uri, text)
    warm = server.call("textDocument/inlineCompletion", completion(uri, 1, 4, kind=1), 120)
    assert "result" in warm
    time.sleep(0.5)
    rss_before, threads_before = server.rss_kib(), server.threads()

    typed = "result = values[0] + values[1] * 2  # keep going\n    " * 40
    line, character, previous = 1, 4, None
    ids = []
    for version, char in enumerate(typed[:2000], 2):
        if previous is not None:
            server.notify("$/cancelRequest", {"id": previous})
        server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [
                    {
                        "range": {
                            "start": {"line": line, "character": character},
                            "end": {"line": line, "character": character},
                        },
                        "text": char,
                    }
                ],
            },
        )
        line, character = (line + 1, 0) if char == "\n" else (line, character + 1)
        previous = server.request("textDocument/inlineCompletion", completion(uri, line, character))
        ids.append(previous)
        time.sleep(0.01)
    server.notify("$/cancelRequest", {"id": previous})

    outcomes = {"result": 0, "cancelled": 0}
    for request_id in ids:
        answer = server.answer(request_id, timeout=120)
        if "result" in answer:
            outcomes["result"] += 1
        else:
            assert answer["error"]["code"] == REQUEST_CANCELLED, answer
            outcomes["cancelled"] += 1
    for _ in range(600):
        status = server.status()
        if status["generationsInFlight"] == 0:
            break
        time.sleep(0.1)
    assert status["generationsInFlight"] == 0
    time.sleep(0.5)
    rss_after, threads_after = server.rss_kib(), server.threads()
    assert server.text_of(uri) == text + typed[:2000]

    after = server.call("textDocument/inlineCompletion", completion(uri, line, character, 1), 120)
    assert "result" in after
    print(
        f"\nstorm: {len(ids)} requests ({outcomes}), RSS {rss_before / 1024:.0f} -> "
        f"{rss_after / 1024:.0f} MiB, threads {threads_before} -> {threads_after}, "
        f"counters {status['counters']}"
    )
    assert threads_after <= threads_before + 2
    assert rss_after - rss_before < 64 * 1024, "memory grew by more than 64 MiB"
    assert not inet_sockets(server.process.pid)


@pytest.mark.model
def test_client_vanishing_mid_request_ends_the_server(fast_server: RawServer) -> None:
    server = fast_server
    server.notify("workspace/didChangeConfiguration", {"settings": {"maxNewTokens": 1000}})
    server.open("untitled:primes", PRIMES)
    server.request("textDocument/inlineCompletion", completion("untitled:primes", 3, 4, 1))
    time.sleep(1.0)
    assert server.status()["generationsInFlight"] == 1
    server.process.stdin.close()  # type: ignore[union-attr]
    assert server.process.wait(timeout=60) == 0


@pytest.mark.model
def test_shutdown_during_a_generation_exits_cleanly(fast_server: RawServer) -> None:
    server = fast_server
    server.notify("workspace/didChangeConfiguration", {"settings": {"maxNewTokens": 1000}})
    server.open("untitled:primes", PRIMES)
    server.request("textDocument/inlineCompletion", completion("untitled:primes", 3, 4, 1))
    time.sleep(1.0)
    assert "result" in server.call("shutdown", timeout=60)
    server.notify("exit")
    assert server.process.wait(timeout=60) == 0


@pytest.mark.parametrize("fault", ["missing", "corrupt", "empty"])
def test_model_fault_is_a_clear_message(tmp_path: Path, fault: str) -> None:
    path = tmp_path / "model.gguf"
    if fault == "corrupt":
        path.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    elif fault == "empty":
        path.write_bytes(b"")
    server = RawServer(stderr_path=tmp_path / "server.log")
    try:
        server.initialize({"model": str(path)}, load_model=True)
        status = server.wait_ready(timeout=60)
        assert status["state"] == "failed"
        assert str(path) in status["error"] or path.name in status["error"]
        # The message may reach the client just after the status that says "failed".
        shown: list[str] = []
        deadline = time.monotonic() + 10
        while not any("model failed to load" in text for text in shown):
            assert time.monotonic() < deadline, shown
            time.sleep(0.05)
            shown += [
                note["params"]["message"]
                for note in server.notifications()
                if note.get("method") == "window/showMessage"
            ]
        server.open("file:///x.py", "x = ")
        answer = server.call("textDocument/inlineCompletion", completion("file:///x.py", 0, 4, 1))
        assert answer["result"]["items"] == []
    finally:
        assert server.close() == 0


def test_logs_carry_no_source_text(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    secret = "SECRET_SOURCE_" + "z" * 20
    server = RawServer(stderr_path=log, log_level="DEBUG")
    server.initialize()
    server.open("file:///secret.py", f"password = '{secret}'\n")
    server.send(
        message(
            {
                "jsonrpc": "2.0",
                "id": 99,
                "method": "textDocument/inlineCompletion",
                "params": {"textDocument": {"uri": secret}, "position": secret},
            }
        )
    )
    server.notify("textDocument/didChange", {"textDocument": {"uri": secret}, "x": secret})
    server.send(frame(f'{{"jsonrpc": "2.0", "id": 5, "method": "{secret}'.encode()))
    assert "error" in server.answer(99)
    assert server.text_of("file:///secret.py").endswith(f"'{secret}'\n")
    assert server.close() == 0
    written = log.read_text(errors="replace")
    assert "copilot/documentText" in written or "Sending data" in written  # DEBUG was on
    assert secret not in written


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listen(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [*PROGRAM, "serve", *args],
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


def _connect(port: int) -> socket.socket:
    for _ in range(100):
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=30)
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(port)


def _exchange(connection: socket.socket, payload: dict) -> dict:
    connection.sendall(message(payload))
    stream = connection.makefile("rb")
    while True:
        length = None
        while (line := stream.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        assert length is not None, "connection closed"
        answer = json.loads(stream.read(length))
        if answer.get("id") == payload["id"]:
            return answer


def test_public_listener_needs_a_token() -> None:
    server = _listen("--tcp", f"0.0.0.0:{_free_port()}", env={"COPILOT_LSP_TOKEN": ""})
    _, error = server.communicate(timeout=60)
    assert server.returncode == 2
    assert b"COPILOT_LSP_TOKEN" in error


def test_listener_binds_loopback_by_default() -> None:
    port = _free_port()
    server = _listen("--tcp", str(port))
    try:
        _connect(port).close()
        rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
        listening = [
            row.split()[1]
            for row in rows
            if row.split()[3] == "0A" and row.split()[1].endswith(f":{port:04X}")
        ]
        assert listening == [f"0100007F:{port:04X}"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_token_is_required_when_configured() -> None:
    port = _free_port()
    server = _listen("--tcp", f"127.0.0.1:{port}", env={"COPILOT_LSP_TOKEN": "s3cret-token"})
    try:
        connection = _connect(port)
        init = {"processId": None, "rootUri": None, "capabilities": {}}
        refused = _exchange(
            connection,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {**init, "initializationOptions": {"token": "wrong"}},
            },
        )
        assert refused["error"]["code"] == -32001
        status = _exchange(connection, {"jsonrpc": "2.0", "id": 2, "method": "copilot/status"})
        assert status["error"]["code"] == -32001
        accepted = _exchange(
            connection,
            {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "initialize",
                "params": {**init, "initializationOptions": {"token": "s3cret-token"}},
            },
        )
        assert "result" in accepted
        status = _exchange(
            connection, {"jsonrpc": "2.0", "id": 4, "method": "copilot/status", "params": {}}
        )
        assert status["result"]["state"] == "idle"
        connection.close()
    finally:
        server.terminate()
        _, error = server.communicate(timeout=30)
    assert b"s3cret-token" not in error


def test_serve_help_mentions_the_local_default() -> None:
    shown = subprocess.run(
        [*PROGRAM, "serve", "--help"], capture_output=True, text=True, check=True
    )
    assert "127.0.0.1" in shown.stdout
    assert sys.executable
