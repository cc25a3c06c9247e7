"""The command line refuses bad input with a usage error or a one-line message."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from copilot_lsp.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--tcp", "99999"],
        ["serve", "--ws", "127.0.0.1:-1"],
        ["http", "--port", "65536"],
        ["http", "--max-new-tokens", "0"],
        ["http", "--max-concurrency", "0"],
        ["playground", "--port", "70000"],
        ["complete", "--max-new-tokens", "0", "x.py:1:1"],
        ["complete", "--temperature", "-1", "x.py:1:1"],
    ],
)
def test_out_of_range_options_are_usage_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
    assert "expected" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("4:1", "m.py ends at line 3"),
        ("1:12", "line 1 of {source} ends at column 11"),
        ("1:11", "{model}"),  # a valid position: then the missing model is the problem
    ],
)
def test_complete_checks_the_position_before_loading_a_model(
    tmp_path: Path, where: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source, model = tmp_path / "m.py", tmp_path / "absent.gguf"
    source.write_text("x = sum(ab\ny = 2\n", encoding="utf-8")
    assert main(["complete", "--model", str(model), f"{source}:{where}"]) == 1
    assert message.format(source=source, model=model) in capsys.readouterr().err


def test_serve_on_a_port_in_use_is_a_one_line_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "copilot_lsp", "serve", "--tcp", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in run.stderr and "Traceback" not in run.stderr


def test_the_playground_gives_its_log_level_to_each_tab_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = []
    monkeypatch.setattr(
        "copilot_lsp.playground.run_playground",
        lambda config, open_browser: started.append(config) or 0,
    )
    assert main(["--log-level", "INFO", "playground"]) == 0
    assert started[0].server_command[-4:] == ["copilot_lsp", "--log-level", "INFO", "serve"]
