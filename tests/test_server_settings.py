"""Settings changes reach the request flow: nothing made under the old ones is served."""

from __future__ import annotations

from copilot_lsp.cache import Shown
from copilot_lsp.model_host import ModelSpec
from copilot_lsp.server import CopilotServer

URI = "file:///a.py"


def test_changed_settings_forget_the_suggestions_made_under_the_old_ones() -> None:
    server = CopilotServer()
    server.model.spec, server.model.state = ModelSpec.of(server.settings), "ready"
    typing = server.completions.typing

    def shown() -> None:
        typing.remember(URI, Shown("s1", "x = ", "\n", "compute_a_long_answer()"))

    shown()
    server.apply_settings({"maxNewTokens": 128})  # the default: nothing changed
    assert typing.lookup(URI, "x = c", "\n") is not None
    server.apply_settings({"maxNewTokens": 4})
    assert typing.lookup(URI, "x = c", "\n") is None
    assert server.settings.max_new_tokens == 4
