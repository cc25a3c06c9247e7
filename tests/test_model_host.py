"""The model thread: cancelled jobs and the prompt they may still finish."""

from __future__ import annotations

import asyncio
import threading

import pytest

from copilot_lsp.backends.base import BackendError, CancelToken
from copilot_lsp.model_host import ModelHost


async def test_a_cancelled_job_finishes_its_prompt_only_while_nothing_else_waits() -> None:
    host = ModelHost()
    host.backend, host.state = object(), "ready"  # type: ignore[assignment]
    tokens: list[CancelToken] = []
    running, release = threading.Event(), threading.Event()

    def slow(backend: object, cancel: CancelToken) -> str:
        tokens.append(cancel)
        running.set()
        release.wait(10)
        return "slow"

    first = asyncio.ensure_future(host.run(slow))
    assert await asyncio.to_thread(running.wait, 10)
    first.cancel()
    await asyncio.sleep(0)
    (token,) = tokens
    assert token.cancelled and not token.prompt_cancelled  # alone: may finish its prompt
    second = asyncio.ensure_future(host.run(lambda backend, cancel: "next"))
    await asyncio.sleep(0)
    assert token.prompt_cancelled  # another job waits: stop now
    release.set()
    assert await second == "next"
    host.backend = None
    host.close()


def test_closing_stops_prompts_at_once() -> None:
    host = ModelHost()
    token = CancelToken(finish_prompt=host._nothing_else_waits)
    token.cancel()
    assert not token.prompt_cancelled
    host.close()
    assert token.prompt_cancelled


async def test_no_job_starts_after_close() -> None:
    host = ModelHost()
    host.close()
    with pytest.raises(BackendError, match="shut down"):
        await host.run(lambda backend, cancel: "late")
