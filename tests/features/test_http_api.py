"""The HTTP API with a scripted model: routes, validation, token, body and concurrency limits."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from copilot_lsp.backends.base import CancelToken, Generation, GenerationOptions, StopCheck
from copilot_lsp.http_api import HttpConfig, check_config, create_http_server
from tests.fakes import ScriptedBackend


@contextmanager
def serving(backend: Any, **options: Any) -> Iterator[str]:
    server = create_http_server(backend, HttpConfig(port=0, **options))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def call(
    url: str, body: Any = None, token: str | None = None, raw: bytes | None = None
) -> tuple[int, dict[str, Any]]:
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_complete_returns_candidates() -> None:
    backend = ScriptedBackend("len(values)\n")
    with serving(backend) as url:
        status, body = call(
            f"{url}/complete",
            {
                "lang": "Python",
                "prompt": "def mean(values):\n    return sum(values) / ",
                "suffix": "",
            },
        )
    assert status == 200
    assert body["candidates"] == [{"text": "len(values)"}]
    assert body["kind"] == "multi-line" and body["model"] == "scripted.gguf"
    assert backend.prompts[0].startswith("<|fim_prefix|>def mean(values):")


def test_generate_tests_returns_a_runnable_file() -> None:
    source = "def double(x: int) -> int:\n    return 2 * x\n"
    backend = ScriptedBackend("    assert double(2) == 4\n    assert double(0) == 0\n")
    with serving(backend) as url:
        status, body = call(
            f"{url}/generate-tests",
            {"lang": "python", "source": source, "path": "mathx.py", "symbol": "double"},
        )
    assert status == 200, body
    assert body["path"] == "test_mathx.py" and body["test_name"] == "test_double"
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # the module, then its generated test, in one namespace
    exec(body["code"].replace("from mathx import double\n", ""), namespace)
    namespace["test_double"]()


@pytest.mark.parametrize(
    ("path", "payload", "status"),
    [
        ("/complete", {"lang": "Python"}, 400),  # no prompt
        ("/complete", {"lang": "Cobol", "prompt": "x"}, 400),
        ("/complete", {"prompt": "x", "n": 99}, 400),
        ("/complete", [1, 2], 400),
        ("/generate-tests", {"lang": "python", "source": "x = 1\n"}, 422),
        ("/generate-tests", {"lang": "python", "source": "def f(): pass\n", "symbol": "g"}, 422),
        ("/nowhere", {}, 404),
    ],
)
def test_bad_requests_get_clear_errors(path: str, payload: Any, status: int) -> None:
    with serving(ScriptedBackend("x")) as url:
        got, body = call(url + path, payload)
        assert got == status and body["error"]
        # ... and the server still answers afterwards.
        assert call(f"{url}/health")[0] == 200


def test_body_size_limit() -> None:
    with serving(ScriptedBackend("x"), max_body_bytes=100) as url:
        status, body = call(f"{url}/complete", {"prompt": "x" * 200})
    assert status == 413 and "100 bytes" in body["error"]


def test_token_is_checked_when_set() -> None:
    with serving(ScriptedBackend("1"), token="s3cret") as url:
        assert call(f"{url}/complete", {"prompt": "x = "})[0] == 401
        assert call(f"{url}/complete", {"prompt": "x = "}, token="wrong")[0] == 401
        assert call(f"{url}/complete", {"prompt": "x = "}, token="s3cret")[0] == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "127.example.com", "127.0.0.1.nip.io"])
def test_non_loopback_host_needs_a_token(host: str) -> None:
    """A name that only starts like a loopback address may resolve to any machine."""
    with pytest.raises(ValueError, match="needs a token"):
        check_config(HttpConfig(host=host))
    check_config(HttpConfig(host=host, token="t"))


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_need_no_token(host: str) -> None:
    check_config(HttpConfig(host=host))


def test_a_default_answer_length_out_of_range_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="max-new-tokens"):
        check_config(HttpConfig(max_new_tokens=0))


def test_it_listens_on_ipv6_loopback() -> None:
    server = create_http_server(ScriptedBackend("x"), HttpConfig(host="::1", port=0))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        status, body = call(f"http://[::1]:{server.server_address[1]}/health")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert status == 200 and body["status"] == "ok"


def test_a_query_string_does_not_change_the_route() -> None:
    with serving(ScriptedBackend("1")) as url:
        assert call(f"{url}/health?probe=1")[0] == 200
        assert call(f"{url}/complete?x=1", {"prompt": "x = "})[0] == 200


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_get_a_json_405(method: str) -> None:
    with serving(ScriptedBackend("1")) as url:
        request = urllib.request.Request(f"{url}/complete", data=b"{}", method=method)
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=60)
    assert raised.value.code == 405 and raised.value.headers["Allow"] == "POST"
    assert "not allowed" in json.loads(raised.value.read())["error"]


@dataclass
class BlockingBackend:
    """Holds every generation until ``release`` is set."""

    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    name: str = "blocking"
    model_path: str = "blocking.gguf"

    def generate(
        self,
        prompt: str,
        options: GenerationOptions,
        cancel: CancelToken,
        stop: StopCheck | None = None,
    ) -> Generation:
        self.started.set()
        self.release.wait(30)
        return Generation("1", "stop_token", 1, 0, 1, 0.0, 0.0)

    def close(self) -> None:
        pass


def test_requests_beyond_the_concurrency_limit_get_429() -> None:
    backend = BlockingBackend()
    with serving(backend, max_concurrency=1) as url:
        first: list[int] = []
        thread = threading.Thread(
            target=lambda: first.append(call(f"{url}/complete", {"prompt": "x = "})[0])
        )
        thread.start()
        assert backend.started.wait(30)
        status, body = call(f"{url}/complete", {"prompt": "y = "})
        backend.release.set()
        thread.join()
    assert status == 429 and "in flight" in body["error"]
    assert first == [200]


def test_openapi_document_lists_the_routes() -> None:
    with serving(ScriptedBackend("x")) as url:
        status, spec = call(f"{url}/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    assert {"/complete", "/generate-tests"} <= set(spec["paths"])
    # The token guards the model's routes; health and this document are public.
    assert spec["paths"]["/complete"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in spec and "security" not in spec["paths"]["/health"]["get"]
    schema = spec["components"]["schemas"]["CompleteRequest"]
    assert schema["required"] == ["prompt"] and "suffix" in schema["properties"]
