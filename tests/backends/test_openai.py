"""The OpenAI-compatible backend against a real server (llama_cpp.server, fast preset) and
against small fake servers that misbehave."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from copilot_lsp.backends import RemoteOptions, load_backend
from copilot_lsp.backends.base import BackendError, CancelToken, GenerationOptions
from copilot_lsp.backends.openai_compat import OpenAICompatibleBackend
from copilot_lsp.prompt.fim import QWEN25_CODER
from tests.backends.llama_server import API_KEY, KEY_ENV, LlamaServer, free_port

PROMPT = QWEN25_CODER.render(
    "def mean(values: list[float]) -> float:\n    total = sum(values)\n    return ",
    "\n\n\nprint(mean([1.0, 2.0]))\n",
)
GREEDY = GenerationOptions(max_new_tokens=12, stop_texts=QWEN25_CODER.stop_texts)
REMOTE = RemoteOptions(api_key_env=KEY_ENV, connect_timeout_s=2, read_timeout_s=60, max_retries=1)


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, API_KEY)


@pytest.mark.model
def test_streams_an_answer_with_its_mean_logprob(llama_server: LlamaServer, api_key: None) -> None:
    llama_server.start()
    backend = load_backend("openai", llama_server.url + "/v1", 2048, 0, REMOTE)
    generation = backend.generate(PROMPT, GREEDY, CancelToken())
    assert "total" in generation.text and "len(values)" in generation.text
    assert generation.finish_reason == "stop_token"
    assert generation.completion_tokens > 0
    assert generation.mean_logprob is not None and -5 < generation.mean_logprob <= 0


@pytest.mark.model
def test_the_api_key_comes_from_the_named_variable(
    llama_server: LlamaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    llama_server.start()
    monkeypatch.delenv(KEY_ENV, raising=False)
    backend = load_backend("openai", llama_server.url, 2048, 0, REMOTE)
    with pytest.raises(BackendError, match="401"):
        backend.generate(PROMPT, GREEDY, CancelToken())


@pytest.mark.model
def test_a_cancel_closes_the_stream_and_the_server_stops(
    llama_server: LlamaServer, api_key: None
) -> None:
    llama_server.start()
    backend = load_backend("openai", llama_server.url, 2048, 0, REMOTE)
    cancel = CancelToken()
    seen: list[str] = []

    def cancel_on_second_piece(text: str) -> bool:
        seen.append(text)
        if len(seen) == 2:
            cancel.cancel()
        return False

    options = GenerationOptions(max_new_tokens=400, temperature=0.8, seed=1)
    generation = backend.generate("def long_story():\n", options, cancel, cancel_on_second_piece)
    assert generation.finish_reason == "cancelled"
    assert generation.completion_tokens < 20
    # The server notices the client leaving and stops generating (it logs it).
    deadline = time.monotonic() + 60
    while "Disconnected from client" not in llama_server.log_text():
        assert time.monotonic() < deadline, llama_server.log_text()[-2000:]
        time.sleep(0.2)
    # ... and is free for the next request.
    assert backend.generate(PROMPT, GREEDY, CancelToken()).text


@pytest.mark.model
def test_server_down_is_a_clear_error_and_recovery_is_automatic(
    llama_server: LlamaServer, api_key: None
) -> None:
    llama_server.stop()
    backend = load_backend("openai", llama_server.url, 2048, 0, REMOTE)
    with pytest.raises(BackendError, match=r"cannot reach .*\(after 2 attempts\)"):
        backend.generate(PROMPT, GREEDY, CancelToken())
    llama_server.start()
    assert "len(values)" in backend.generate(PROMPT, GREEDY, CancelToken()).text


def test_a_cancel_while_waiting_to_retry_gives_up_at_once() -> None:
    remote = RemoteOptions(api_model="m", connect_timeout_s=1, max_retries=5)
    backend = load_backend("openai", f"http://127.0.0.1:{free_port()}", 2048, 0, remote)
    cancel = CancelToken()
    cancel.cancel()
    assert backend.generate("x", GREEDY, cancel).finish_reason == "cancelled"


@pytest.mark.parametrize("url", ["localhost:8000", "ftp://host/v1", "http://:80", "http://h:x"])
def test_bad_server_urls_are_rejected(url: str) -> None:
    with pytest.raises(BackendError, match=r"server URL|port"):
        load_backend("openai", url, 2048, 0, REMOTE)


# --- fake servers ---

Answer = Callable[[BaseHTTPRequestHandler], None]


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FakeHandler)
        self.answer: Answer = lambda handler: stream(handler, sse(TOKEN, END))
        self.requests: list[tuple[float, dict[str, str]]] = []
        self.client_gone = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeServer

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append((time.monotonic(), dict(self.headers)))
        with contextlib.suppress(OSError):
            self.server.answer(self)


TOKEN = {"choices": [{"text": "x", "logprobs": {"token_logprobs": [-0.5]}}]}
END = {"choices": [{"text": "", "finish_reason": "stop"}]}


def sse(*events: object) -> bytes:
    return b"".join(b"data: " + json.dumps(event).encode() + b"\n\n" for event in events)


def start_stream(handler: BaseHTTPRequestHandler) -> None:
    """Headers of a close-delimited stream (no length, no chunks)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.flush()


def stream(handler: BaseHTTPRequestHandler, body: bytes, done: bool = True) -> None:
    start_stream(handler)
    handler.wfile.write(body + (b"data: [DONE]\n\n" if done else b""))
    handler.wfile.flush()


def hold(handler: BaseHTTPRequestHandler) -> None:
    """Send nothing more until the client leaves (at most 5 s)."""
    handler.connection.settimeout(5)
    with contextlib.suppress(OSError):
        if handler.connection.recv(1) == b"":
            handler.server.client_gone.set()  # type: ignore[attr-defined]


def plain(status: int, body: bytes, *headers: tuple[str, str]) -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in (("Content-Length", str(len(body))), *headers):
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    return answer


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    server = FakeServer()
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def fake_backend(url: str, **remote: object) -> OpenAICompatibleBackend:
    options = {"api_model": "m", "connect_timeout_s": 1.0, "read_timeout_s": 2.0, "max_retries": 0}
    return OpenAICompatibleBackend(url, RemoteOptions(**{**options, **remote}))  # type: ignore[arg-type]


def cancel_after(seconds: float) -> CancelToken:
    cancel = CancelToken()
    timer = threading.Timer(seconds, cancel.cancel)
    timer.daemon = True
    timer.start()
    return cancel


OPTIONS = GenerationOptions(max_new_tokens=8)


# --- the API key and the URL's credentials never show ---


def test_whitespace_around_the_api_key_is_dropped(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_KEY", " sk-1\r\n")
    fake_backend(fake.url, api_key_env="FAKE_KEY").generate("x", OPTIONS, CancelToken())
    assert fake.requests[0][1]["Authorization"] == "Bearer sk-1"


@pytest.mark.parametrize("key", ["sk-SECRET\r\nX-Evil: 1", "sk-SE\x1bCRET", "sk-SECRÉT€"])
def test_a_key_that_cannot_be_a_header_is_refused_without_showing_it(
    key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_KEY", key)
    with pytest.raises(BackendError, match=r"\$FAKE_KEY") as raised:
        fake_backend("http://127.0.0.1:1", api_key_env="FAKE_KEY")
    assert "CRET" not in str(raised.value) and "sk-" not in str(raised.value)


def test_an_error_answer_does_not_echo_the_key(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_KEY", "sk-SECRET")
    fake.answer = plain(401, b"bad key: Bearer sk-SECRET")
    with pytest.raises(BackendError, match="401") as raised:
        fake_backend(fake.url, api_key_env="FAKE_KEY").generate("x", OPTIONS, CancelToken())
    assert "SECRET" not in str(raised.value)


def test_credentials_in_the_server_url_are_never_shown() -> None:
    backend = fake_backend(f"http://alice:hunter2@127.0.0.1:{free_port()}/v1")
    assert backend.model_path == f"http://127.0.0.1:{backend._endpoint.port}"
    with pytest.raises(BackendError, match="cannot reach") as raised:
        backend.generate("x", OPTIONS, CancelToken())
    for url in ("http://alice:hunter2@h:x", "ftp://alice:hunter2@h"):
        with pytest.raises(BackendError) as bad:
            fake_backend(url)
        assert "hunter2" not in str(bad.value) and "alice" not in str(bad.value)
    assert "hunter2" not in str(raised.value) and "alice" not in str(raised.value)


# --- cancel and time budget stop a stream at once, whatever the server does ---


def one_token_then_silence(handler: BaseHTTPRequestHandler) -> None:
    start_stream(handler)
    handler.wfile.write(sse(TOKEN))
    handler.wfile.flush()
    hold(handler)


def no_headers(handler: BaseHTTPRequestHandler) -> None:
    hold(handler)


@pytest.mark.parametrize("answer", [one_token_then_silence, no_headers])
@pytest.mark.parametrize("stop", ["cancelled", "time_budget"])
def test_cancel_and_time_budget_cut_a_silent_connection(
    fake: FakeServer, answer: Answer, stop: str
) -> None:
    fake.answer = answer
    cancel = cancel_after(0.2) if stop == "cancelled" else CancelToken()
    budget = 0.2 if stop == "time_budget" else None
    options = GenerationOptions(max_new_tokens=8, time_budget_s=budget)
    started = time.monotonic()
    generation = fake_backend(fake.url, read_timeout_s=5.0).generate("x", options, cancel)
    assert generation.finish_reason == stop
    assert time.monotonic() - started < 1.5
    assert fake.client_gone.wait(2)


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A local port whose SYNs go unanswered: a listener with backlog 0 that never accepts,
    its queue filled first (Linux then drops further SYNs, so a connect hangs)."""
    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(8):
            client = stack.enter_context(socket.socket())
            client.settimeout(0.3)
            try:
                client.connect(("127.0.0.1", port))
            except TimeoutError:
                break
        else:
            pytest.skip("this system answers every SYN of a full listen queue")
        yield port


@pytest.mark.parametrize("stop", ["cancelled", "time_budget"])
def test_cancel_and_time_budget_cut_a_connect_that_hangs(unanswered_port: int, stop: str) -> None:
    threads = threading.active_count()
    cancel = cancel_after(0.2) if stop == "cancelled" else CancelToken()
    budget = 0.2 if stop == "time_budget" else None
    options = GenerationOptions(max_new_tokens=8, time_budget_s=budget)
    backend = fake_backend(f"http://127.0.0.1:{unanswered_port}", connect_timeout_s=5.0)
    started = time.monotonic()
    generation = backend.generate("x", options, cancel)
    assert generation.finish_reason == stop
    assert time.monotonic() - started < 1.0  # not the 5 s connect timeout
    deadline = time.monotonic() + 1.0
    while threading.active_count() > threads and time.monotonic() < deadline:
        time.sleep(0.02)
    assert threading.active_count() == threads  # the watch thread ended


# --- timeouts and retries ---


def test_a_read_timeout_is_reported_as_such_and_not_retried(fake: FakeServer) -> None:
    fake.answer = no_headers
    backend = fake_backend(fake.url, read_timeout_s=0.2, max_retries=2)
    with pytest.raises(BackendError, match="timed out"):
        backend.generate("x", OPTIONS, CancelToken())
    assert len(fake.requests) == 1


def test_keep_alive_comments_do_not_hold_off_the_timeout(fake: FakeServer) -> None:
    def ping_forever(handler: BaseHTTPRequestHandler) -> None:
        start_stream(handler)
        for _ in range(100):
            handler.wfile.write(b": ping\n\n")
            handler.wfile.flush()
            time.sleep(0.05)
        handler.wfile.write(sse(END) + b"data: [DONE]\n\n")

    fake.answer = ping_forever
    started = time.monotonic()
    with pytest.raises(BackendError, match="timed out"):
        fake_backend(fake.url, read_timeout_s=0.3).generate("x", OPTIONS, CancelToken())
    assert time.monotonic() - started < 2


def test_retry_after_is_honoured(fake: FakeServer) -> None:
    answers = [plain(429, b"slow down", ("Retry-After", "1"))]
    fake.answer = lambda handler: (
        answers.pop()(handler) if answers else stream(handler, sse(TOKEN, END))
    )
    generation = fake_backend(fake.url, max_retries=1).generate("x", OPTIONS, CancelToken())
    assert generation.text == "x"
    (first, _), (second, _) = fake.requests
    assert 0.9 < second - first < 1.5


def test_a_retry_after_beyond_the_time_budget_ends_at_the_budget(fake: FakeServer) -> None:
    fake.answer = plain(429, b"slow down", ("Retry-After", "60"))
    options = GenerationOptions(max_new_tokens=8, time_budget_s=0.3)
    started = time.monotonic()
    generation = fake_backend(fake.url, max_retries=2).generate("x", options, CancelToken())
    assert generation.finish_reason == "time_budget"
    assert time.monotonic() - started < 1 and len(fake.requests) == 1


# --- limits on what the server sends ---


def test_a_server_ignoring_max_tokens_is_stopped(fake: FakeServer) -> None:
    fake.answer = lambda handler: stream(handler, sse(*[TOKEN] * 1000))
    generation = fake_backend(fake.url).generate("x", OPTIONS, CancelToken())
    assert generation.text == "x" * 8 and generation.finish_reason == "length"


def test_a_huge_line_is_refused(fake: FakeServer) -> None:
    fake.answer = lambda handler: stream(handler, b"data: " + b"a" * (3 << 20), done=False)
    with pytest.raises(BackendError, match="over 1 MiB"):
        fake_backend(fake.url).generate("x", OPTIONS, CancelToken())


def test_a_stream_cut_off_before_done_is_an_error(fake: FakeServer) -> None:
    fake.answer = lambda handler: stream(handler, sse(TOKEN), done=False)
    with pytest.raises(BackendError, match="broke off the answer"):
        fake_backend(fake.url).generate("x", OPTIONS, CancelToken())


# --- answers of the wrong shape ---


@pytest.mark.parametrize(
    "line",
    [
        b'{"choices": {"text": "x"}}',
        b'{"choices": [{"text": 5}]}',
        b'{"choices": ["x"]}',
        b"null",
        b"[1, 2]",
        b'{"choices": [{"text": "x"}], "usage": [1]}',
        b'{"choices": [{"text": "x"}], "usage": {"prompt_tokens": "many"}}',
        b'{"choices": [{"text": "x", "logprobs": [1]}]}',
        b'{"choices": [{"text": "x", "logprobs": {"token_logprobs": ["a"]}}]}',
        b"{not json",
    ],
)
def test_an_answer_of_the_wrong_shape_is_a_clear_error(fake: FakeServer, line: bytes) -> None:
    fake.answer = lambda handler: stream(handler, b"data: " + line + b"\n\n" + sse(END))
    with pytest.raises(BackendError, match="malformed answer"):
        fake_backend(fake.url).generate("x", OPTIONS, CancelToken())


def test_non_finite_logprobs_count_as_absent(fake: FakeServer) -> None:
    nan = b'data: {"choices": [{"text": "x", "logprobs": {"token_logprobs": [NaN]}}]}\n\n'
    fake.answer = lambda handler: stream(handler, sse(TOKEN) + nan + sse(END))
    generation = fake_backend(fake.url).generate("x", OPTIONS, CancelToken())
    assert generation.text == "xx" and generation.mean_logprob == -0.5


def test_a_server_that_does_not_stream_is_understood(fake: FakeServer) -> None:
    body = json.dumps({"choices": [{"text": "return 1", "finish_reason": "stop"}]}).encode()
    fake.answer = plain(200, body, ("Content-Type", "application/json"))
    generation = fake_backend(fake.url).generate("x", OPTIONS, CancelToken())
    assert generation.text == "return 1" and generation.finish_reason == "stop_token"
