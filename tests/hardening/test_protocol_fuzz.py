"""Fuzz the real server process's input: broken frames, bad JSON, wrong param types,
random edit sequences, positions out of range, huge and binary documents.

The model is never loaded here (no `initialized` notification), so every request runs the
full protocol and document path and answers fast; the storm test covers the model path.
Each test asserts that the process is alive and that every request got a result or an
error; the totals are printed (run with -s to see them).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.raw import RawServer, frame, message

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TALLY: dict[str, int] = {"inputs": 0, "requests": 0, "answered": 0}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawServer]:
    log = tmp_path_factory.mktemp("fuzz") / "server.log"
    raw = RawServer(stderr_path=log, log_level="INFO")
    raw.initialize()
    yield raw
    alive = raw.alive()
    code = raw.close()
    print(
        f"\nfuzzing: {TALLY['inputs']} inputs, {TALLY['requests']} requests, "
        f"{TALLY['answered']} answered, crashes: {0 if alive else 1} (exit code {code})"
    )
    assert alive, "the server died during fuzzing"
    assert code == 0


def still_serving(server: RawServer) -> None:
    """The process is alive and answers a normal request, with no model loaded: a settings
    change retries a failed load, so wait for a retry under way to fail again."""
    assert server.alive()
    deadline = time.monotonic() + 30
    while (state := server.status(timeout=30)["state"]) == "loading":
        assert time.monotonic() < deadline, "a model load that never ends"
        time.sleep(0.05)
    assert state in ("idle", "failed")


def answered(server: RawServer, request_id: object, timeout: float = 30) -> dict:
    TALLY["requests"] += 1
    answer = server.answer(request_id, timeout)
    assert ("result" in answer) != ("error" in answer), answer
    TALLY["answered"] += 1
    return answer


# -- frames ----------------------------------------------------------------------------

BROKEN_FRAMES = {
    "invalid JSON": (frame(b"{not json"), PARSE_ERROR),
    "invalid UTF-8": (
        frame(b'{"jsonrpc":"2.0","id":1,"method":"copilot/status","params":{"x":"\xff\xfe"}}'),
        PARSE_ERROR,
    ),
    "truncated JSON": (frame(b'{"jsonrpc":"2.0","id":7,"method":"copilot/sta'), PARSE_ERROR),
    "JSON array": (frame(b"[1, 2, 3]"), INVALID_REQUEST),
    "JSON number": (frame(b"42"), INVALID_REQUEST),
    "no jsonrpc member": (frame(b'{"id": 5, "method": "copilot/status"}'), INVALID_REQUEST),
    "notification sent with an id": (
        message(
            {
                "jsonrpc": "2.0",
                "id": "n1",
                "method": "textDocument/didClose",
                "params": {"textDocument": {"uri": "file:///open.py"}},
            }
        ),
        INVALID_REQUEST,
    ),
    "unknown method": (
        message({"jsonrpc": "2.0", "id": "u1", "method": "no/suchMethod", "params": {}}),
        METHOD_NOT_FOUND,
    ),
}


@pytest.mark.parametrize("name", list(BROKEN_FRAMES))
def test_broken_frames_get_an_error_answer(server: RawServer, name: str) -> None:
    data, code = BROKEN_FRAMES[name]
    TALLY["inputs"] += 1
    server.send(data)
    request_id = {
        "unknown method": "u1",
        "no jsonrpc member": 5,
        "notification sent with an id": "n1",
    }.get(name)
    answer = answered(server, request_id)
    assert answer["error"]["code"] == code
    still_serving(server)


@pytest.mark.parametrize(
    "data",
    [
        b"Content-Length: abc\r\n\r\n{}\r\n",
        b"Content-Length: -5\r\n\r\n",
        b"Content-Type: text/plain\r\n\r\n",
        b"\r\n\r\n\r\n",
        b"garbage without any header\r\n",
        b"Content-Length: 0\r\n\r\n",
        b"Content-Length: 300000000\r\n\r\n" + b"x" * 1000,
    ],
    ids=["nan", "negative", "no-length", "blank", "garbage", "zero", "huge-then-short"],
)
def test_bad_headers_do_not_stop_the_server(data: bytes, tmp_path: Path) -> None:
    """Headers that cannot frame a message: the server skips them (or drops the frame)
    and keeps reading; closing stdin afterwards ends it cleanly."""
    raw = RawServer()
    try:
        raw.initialize()
        TALLY["inputs"] += 1
        raw.send(data)
        if b"300000000" not in data:
            raw.send(b"\r\n")
            still_serving(raw)
    finally:
        raw.process.stdin.close()  # type: ignore[union-attr]
        assert raw.process.wait(timeout=30) == 0
        raw.close()


@FUZZ
@given(body=st.binary(max_size=200))
def test_random_bodies(server: RawServer, body: bytes) -> None:
    TALLY["inputs"] += 1
    server.send(frame(body))
    still_serving(server)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
COMMANDS = ["copilot.accepted", "copilot.rejected", "copilot.generateTests"]
METHODS = [
    "textDocument/inlineCompletion",
    "copilot/status",
    "copilot/documentText",
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didClose",
    "$/cancelRequest",
    "workspace/executeCommand",
]


def _shaped_params() -> st.SearchStrategy:
    """Params that look like the real ones with some members of the wrong type."""
    position = st.fixed_dictionaries({"line": JSON_VALUES, "character": JSON_VALUES})
    command = st.fixed_dictionaries(
        {"command": st.sampled_from(COMMANDS) | JSON_VALUES},
        optional={"arguments": JSON_VALUES | st.lists(JSON_VALUES, max_size=3)},
    )
    return command | st.fixed_dictionaries(
        {
            "textDocument": st.one_of(
                JSON_VALUES,
                st.fixed_dictionaries(
                    {"uri": st.sampled_from(["file:///open.py", "file:///nope.py"]) | JSON_VALUES}
                ),
            ),
            "position": position | JSON_VALUES,
            "context": st.fixed_dictionaries({"triggerKind": JSON_VALUES}) | JSON_VALUES,
        }
    )


@FUZZ
@given(
    method=st.sampled_from(METHODS),
    params=JSON_VALUES | _shaped_params(),
    as_request=st.booleans(),
)
def test_wrong_param_types(
    server: RawServer, method: str, params: object, as_request: bool
) -> None:
    """Requests always get a result or an error, whatever their params."""
    TALLY["inputs"] += 1
    server.open("file:///open.py", "def f(x):\n    return x\n")
    if as_request:
        answer = answered(server, server.request(method, params))
        if "error" in answer:
            expected = (INVALID_REQUEST, INVALID_PARAMS, METHOD_NOT_FOUND)
            assert answer["error"]["code"] in expected, answer
    else:
        server.notify(method, params)
    still_serving(server)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("arguments", ["absent", None, []])
def test_commands_without_arguments_are_invalid_params(
    server: RawServer, command: str, arguments: object
) -> None:
    """``arguments`` is optional in executeCommand: leaving it out is the client's mistake."""
    TALLY["inputs"] += 1
    params = {"command": command} | ({} if arguments == "absent" else {"arguments": arguments})
    answer = answered(server, server.request("workspace/executeCommand", params))
    assert answer.get("error", {}).get("code") == INVALID_PARAMS, answer


# -- documents -------------------------------------------------------------------------

_BREAK = re.compile(r"\r\n|\r|\n")


def oracle_offset(text: str, line: int, character: int) -> int:
    """Independent LSP (UTF-16) position -> code-point offset, clamped like the server."""
    starts = [0] + [match.end() for match in _BREAK.finditer(text)]
    if line >= len(starts):
        return len(text)
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    content = text[starts[line] : end].rstrip("\r\n")
    units = content.encode("utf-16-le", "surrogatepass")[: 2 * max(character, 0)]
    return starts[line] + len(units.decode("utf-16-le", "ignore"))


EDIT_TEXT = st.text(alphabet=st.sampled_from(list("ab \t\n\r(){}é中😀\x00\u2028\x0c")), max_size=12)
EDITS = st.lists(
    st.tuples(
        st.integers(0, 12), st.integers(0, 30), st.integers(0, 12), st.integers(0, 30), EDIT_TEXT
    )
    | st.tuples(st.just(-1), st.just(0), st.just(0), st.just(0), EDIT_TEXT),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(initial=EDIT_TEXT, edits=EDITS)
def test_incremental_edits_equal_the_full_text(
    server: RawServer, initial: str, edits: list[tuple[int, int, int, int, str]]
) -> None:
    """Random incremental (and full) edits, some past the end of lines and of the
    document: the server's copy equals the text an independent model computes."""
    uri = "file:///edited.py"
    server.open(uri, initial)
    text = initial
    for version, (line, character, end_line, end_character, insert) in enumerate(edits, 2):
        TALLY["inputs"] += 1
        if line < 0:
            change: dict = {"text": insert}
            text = insert
        else:
            start = oracle_offset(text, line, character)
            finish = oracle_offset(text, end_line, end_character)
            start, finish = min(start, finish), max(start, finish)
            change = {
                "range": {
                    "start": {"line": line, "character": character},
                    "end": {"line": end_line, "character": end_character},
                },
                "text": insert,
            }
            text = text[:start] + insert + text[finish:]
        server.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
        )
    TALLY["requests"] += 1
    assert server.text_of(uri) == text
    TALLY["answered"] += 1


@pytest.mark.parametrize("capabilities", [{}, {"general": {"positionEncodings": ["utf-8"]}}])
def test_positions_count_in_the_negotiated_encoding(capabilities: dict, tmp_path: Path) -> None:
    """A client that names no encoding gets UTF-16, which LSP makes the default."""
    utf8 = bool(capabilities)
    raw = RawServer(stderr_path=tmp_path / "server.log")
    raw.initialize(capabilities=capabilities)
    TALLY["inputs"] += 1
    raw.open("file:///emoji.py", "a😀b\n")
    start = 1 + (4 if utf8 else 2)  # after the emoji: 4 UTF-8 bytes, 2 UTF-16 units
    raw.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": "file:///emoji.py", "version": 2},
            "contentChanges": [
                {
                    "range": {
                        "start": {"line": 0, "character": start},
                        "end": {"line": 0, "character": start + 1},
                    },
                    "text": "X",
                }
            ],
        },
    )
    assert raw.text_of("file:///emoji.py") == "a😀X\n"
    assert raw.close() == 0


def test_the_server_asks_to_watch_source_files(tmp_path: Path) -> None:
    """Files changed on disk (git, a formatter) must reach the cross-file context."""
    raw = RawServer(stderr_path=tmp_path / "server.log")
    watched = {"didChangeWatchedFiles": {"dynamicRegistration": True}}
    raw.initialize({"model": "/nonexistent.gguf"}, capabilities={"workspace": watched})
    raw.notify("initialized", {})
    raw.status()  # answered after the registration request was sent
    asked = [m for m in raw.notifications() if m.get("method") == "client/registerCapability"]
    raw.close()
    (registration,) = asked[0]["params"]["registrations"]
    assert registration["method"] == "workspace/didChangeWatchedFiles"
    (watcher,) = registration["registerOptions"]["watchers"]
    assert watcher["globPattern"].startswith("**/*.{") and ",py," in watcher["globPattern"]


def test_requests_after_shutdown_are_refused(tmp_path: Path) -> None:
    raw = RawServer(stderr_path=tmp_path / "server.log")
    raw.initialize()
    assert "result" in raw.call("shutdown")
    for method in ("copilot/status", "shutdown"):
        answer = raw.call(method, {})
        assert answer.get("error", {}).get("code") == INVALID_REQUEST, answer
    raw.notify("exit")
    assert raw.process.wait(timeout=30) == 0
    raw.close()


def test_a_refused_request_is_one_log_line(tmp_path: Path) -> None:
    """The client's mistake gets its error answer and a warning, not a traceback."""
    log = tmp_path / "server.log"
    raw = RawServer(stderr_path=log)
    raw.initialize()
    raw.open("file:///short.py", "x = 1\n")
    where = {"textDocument": {"uri": "file:///short.py"}, "position": {"line": 9, "character": 0}}
    answer = raw.call("textDocument/inlineCompletion", {**where, "context": {"triggerKind": 1}})
    assert answer["error"]["code"] == INVALID_PARAMS
    raw.close()
    lines = log.read_text().splitlines()
    assert "Traceback" not in "\n".join(lines)
    assert [line for line in lines if "line 9 is outside the document" in line] == [
        next(line for line in lines if "answered JsonRpcInvalidParams" in line)
    ]


def test_exit_without_shutdown_is_exit_code_1(tmp_path: Path) -> None:
    """As LSP asks: the client can tell a crash-like exit from an orderly one."""
    raw = RawServer(stderr_path=tmp_path / "server.log")
    raw.initialize()
    raw.notify("exit")
    assert raw.process.wait(timeout=30) == 1
    raw.close()


@pytest.mark.parametrize(
    ("line", "character"),
    [(-1, 0), (0, -3), (2**31, 0), (0, 2**31), (10**6, 10**6), (3, 0)],
)
def test_positions_out_of_range(server: RawServer, line: int, character: int) -> None:
    TALLY["inputs"] += 1
    server.open("file:///short.py", "x = 1\n")
    answer = answered(
        server,
        server.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": "file:///short.py"},
                "position": {"line": line, "character": character},
                "context": {"triggerKind": 1},
            },
        ),
    )
    if "error" in answer:
        assert answer["error"]["code"] == INVALID_PARAMS
    still_serving(server)


def _complete_at_end(server: RawServer, uri: str, text: str) -> dict:
    lines = re.split(r"\r\n|\r|\n", text)
    column = len(lines[-1].encode("utf-16-le", "surrogatepass")) // 2
    return answered(
        server,
        server.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": uri},
                "position": {"line": len(lines) - 1, "character": column},
                "context": {"triggerKind": 1},
            },
        ),
        timeout=120,
    )


@pytest.mark.parametrize(
    "kind",
    [
        "10MB-document",
        "100k-char-line",
        "binary",
        "lone-surrogates",
        "lone-surrogates-in-python",
        "NULs-and-controls",
    ],
)
def test_huge_and_binary_documents(server: RawServer, kind: str) -> None:
    if kind == "10MB-document":
        text = "def f(x):\n    return x * 2  # ünïcode\n" * (10 * 1024 * 1024 // 38)
    elif kind == "100k-char-line":
        text = "x = [" + "'é中😀', " * 12_500 + "]\n"
    elif kind == "binary":
        text = bytes(range(256)).decode("latin-1") * 200
    elif kind == "lone-surrogates":
        text = "a\ud800b\udfffc\n" * 10
    elif kind == "lone-surrogates-in-python":  # parsed with tree-sitter
        text = 'def f(x):\n    return "a\ud800b" + x  # \udfff\n' * 10
    else:
        text = "\x00\x01\x1b[31m\x7f\u2028\u2029\x0c\x85" * 1000
    TALLY["inputs"] += 1
    uri = f"file:///{kind}.{'py' if 'python' in kind else 'txt'}"
    server.open(uri, text)
    answer = _complete_at_end(server, uri, text)
    assert "result" in answer
    # An edit in the middle keeps the copy exact.
    lines = re.split(r"\r\n|\r|\n", text)
    middle = len(lines) // 2
    server.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [
                {
                    "range": {
                        "start": {"line": middle, "character": 1},
                        "end": {"line": middle, "character": 1},
                    },
                    "text": "INSERTED",
                }
            ],
        },
    )
    offset = oracle_offset(text, middle, 1)
    assert server.text_of(uri) == text[:offset] + "INSERTED" + text[offset:]
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    still_serving(server)


def test_settings_of_every_shape(server: RawServer) -> None:
    """(A model path that does not exist keeps the fuzzing server from loading one.)"""
    for value in [
        {"model": "/nonexistent/model.gguf"},
        None,
        5,
        "x",
        [],
        {"copilot": 3},
        {"maxNewTokens": {"a": 1}},
        {"model": ""},
    ]:
        TALLY["inputs"] += 1
        server.notify("workspace/didChangeConfiguration", {"settings": value})
    still_serving(server)
    assert json.dumps(server.status())  # still a plain JSON status
