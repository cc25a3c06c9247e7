"""`copilot-lsp http` as a process with the real fast model."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "copilot_lsp", "http", "--model", "fast", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        for line in process.stderr:
            if "listening on " in line:
                yield line.rsplit("listening on ", 1)[1].strip()
                break
        else:
            pytest.fail(f"copilot-lsp http exited with {process.wait()}")
    finally:
        process.terminate()
        process.wait(timeout=30)


def post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


HEAD = "def mean(values: list[float]) -> float:\n    total = sum(values)\n    return "


def test_complete_over_http(base_url: str) -> None:
    answer = post(
        f"{base_url}/complete",
        {
            "lang": "Python",
            "prompt": HEAD,
            "suffix": "\n",
            "max_new_tokens": 24,
        },
    )
    (candidate,) = answer["candidates"]
    namespace: dict[str, Any] = {}
    exec(HEAD + candidate["text"].split("\n")[0], namespace)
    assert namespace["mean"]([1.0, 2.0, 6.0]) == 3.0


def test_generate_tests_over_http_gives_a_file_that_runs(base_url: str) -> None:
    source = "def clamp(x: int, low: int, high: int) -> int:\n    return max(low, min(x, high))\n"
    answer = post(
        f"{base_url}/generate-tests",
        {"lang": "Python", "path": "clamping.py", "source": source, "symbol": "clamp"},
    )
    assert answer["path"] == "test_clamping.py"
    code = answer["code"]
    assert code.startswith("from clamping import clamp\n") and "def test_clamp(" in code
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    exec(code.replace("from clamping import clamp\n", ""), namespace)  # it compiles and defines
    assert callable(namespace["test_clamp"])
