"""`copilot-lsp serve --tcp` and `--ws` speak LSP on a local port."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import pytest
from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def connect(client: LanguageClient, transport: str, port: int) -> None:
    for _ in range(100):
        try:
            if transport == "tcp":
                await client.start_tcp("127.0.0.1", port)
            else:
                await client.start_ws("127.0.0.1", port)
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise TimeoutError(f"server did not listen on {port}")


@pytest.mark.parametrize("shut_down", [True, False])
@pytest.mark.parametrize("transport", ["tcp", "ws"])
async def test_serve_over_a_socket(transport: str, shut_down: bool) -> None:
    """`exit` ends the process with LSP's exit code (1 without `shutdown` first) and no
    traceback (pygls raised SystemExit inside asyncio's TCP connection task)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "copilot_lsp", "serve", f"--{transport}", f"127.0.0.1:{port}"],
        stderr=subprocess.PIPE,
        text=True,
    )
    client = LanguageClient("transport-test", "0")
    try:
        await connect(client, transport, port)
        result = await client.initialize_async(
            lsp.InitializeParams(capabilities=lsp.ClientCapabilities())
        )
        assert result.capabilities.inline_completion_provider is not None
        status = await client.protocol.send_request_async("copilot/status", {})
        assert status.version
        if shut_down:
            await client.shutdown_async(None)
        client.exit(None)
        _, stderr = await asyncio.to_thread(server.communicate, timeout=20)
    finally:
        server.kill()
        server.wait(timeout=10)
        await client.stop()
    assert server.returncode == (0 if shut_down else 1)
    assert "Traceback" not in stderr and "Unhandled exception" not in stderr, stderr
