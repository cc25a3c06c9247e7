"""The OpenAI-compatible backend against a real server (llama_cpp.server, fast preset)."""

from __future__ import annotations

import time

import pytest

from copilot_lsp.backends import RemoteOptions, load_backend
from copilot_lsp.backends.base import BackendError, CancelToken, GenerationOptions
from copilot_lsp.prompt.fim import QWEN25_CODER
from tests.backends.llama_server import API_KEY, KEY_ENV, LlamaServer, free_port

pytestmark = pytest.mark.model

PROMPT = QWEN25_CODER.render(
    "def mean(values: list[float]) -> float:\n    total = sum(values)\n    return ",
    "\n\n\nprint(mean([1.0, 2.0]))\n",
)
GREEDY = GenerationOptions(max_new_tokens=12, stop_texts=QWEN25_CODER.stop_texts)
REMOTE = RemoteOptions(api_key_env=KEY_ENV, connect_timeout_s=2, read_timeout_s=60, max_retries=1)


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, API_KEY)


def test_streams_an_answer_with_its_mean_logprob(llama_server: LlamaServer, api_key: None) -> None:
    llama_server.start()
    backend = load_backend("openai", llama_server.url + "/v1", 2048, 0, REMOTE)
    generation = backend.generate(PROMPT, GREEDY, CancelToken())
    assert "total" in generation.text and "len(values)" in generation.text
    assert generation.finish_reason == "stop_token"
    assert generation.completion_tokens > 0
    assert generation.mean_logprob is not None and -5 < generation.mean_logprob <= 0


def test_the_api_key_comes_from_the_named_variable(
    llama_server: LlamaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    llama_server.start()
    monkeypatch.delenv(KEY_ENV, raising=False)
    backend = load_backend("openai", llama_server.url, 2048, 0, REMOTE)
    with pytest.raises(BackendError, match="401"):
        backend.generate(PROMPT, GREEDY, CancelToken())


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
