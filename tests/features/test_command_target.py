"""The argument shapes `copilot.generateTests` accepts from clients."""

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams

from copilot_lsp.server import _command_target

HERE = lsp.Position(line=3, character=4)


@pytest.mark.parametrize(
    "args",
    [
        ({"uri": "file:///m.py", "position": {"line": 3, "character": 4}},),
        ("file:///m.py", {"line": 3, "character": 4}),
        # The VS Code extension sends the active editor as TextDocumentPositionParams.
        (
            {
                "textDocument": {"uri": "file:///m.py"},
                "position": {"line": 3, "character": 4},
                "range": {"start": {"line": 3, "character": 4}},
            },
        ),
    ],
)
def test_accepted_shapes(args: tuple) -> None:
    assert _command_target(args) == ("file:///m.py", HERE)


@pytest.mark.parametrize(
    "args",
    [(), ({"position": {"line": 1, "character": 0}},), ({"uri": "file:///m.py"},), (3,)],
)
def test_other_shapes_are_invalid_params(args: tuple) -> None:
    with pytest.raises(JsonRpcInvalidParams):
        _command_target(args)
