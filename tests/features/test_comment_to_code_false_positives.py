"""Comments that do not ask for code: directives, license headers, separators, and code
that only looks like a comment in another language."""

from __future__ import annotations

import pytest

from copilot_lsp.backends.base import CancelToken, GenerationOptions
from copilot_lsp.comment_to_code import describes_code
from copilot_lsp.features.inline_completion import CompletionRequest, complete
from copilot_lsp.syntax import CompletionKind
from tests.fakes import ScriptedBackend


def _split(text: str) -> tuple[str, str]:
    """Prefix and suffix around the ``|`` that marks the cursor."""
    cursor = text.index("|")
    return text[:cursor], text[cursor + 1 :]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("python", "# -*- coding: utf-8 -*-\n|\n"),
        ("python", "# Copyright (c) 2024 Acme.\n# SPDX-License-Identifier: MIT\n|\nimport os\n"),
        ("python", "# Copyright (c) 2024 Acme Corp.\n# Licensed under the MIT License.\n|"),
        ("python", "# SPDX-License-Identifier: MIT\n|\n"),
        ("python", "import os\n# type: ignore\n|\n"),
        ("python", "x = 1\n# noqa: E501\n|\n"),
        ("python", "# pylint: disable=missing-docstring\n|\n"),
        ("python", "# fmt: off\n|\n"),
        ("python", "# region helpers\n|\n"),
        ("python", "# endregion\n|\n"),
        ("python", "x = 1\n# ----------------\n|\n"),
        ("javascript", "x = 1;\n// =====================\n|\n"),
        ("javascript", "// eslint-disable-next-line no-console\n|\nconsole.log(1);\n"),
        ("javascript", "/* eslint-disable */\n|\n"),
        ("typescript", "// @ts-ignore\n|\n"),
        ("typescript", "// @ts-expect-error\n|\n"),
        ("typescript", '/// <reference types="node" />\n|\n'),
        ("go", "//go:build linux\n|\npackage x\n"),
        ("go", "package x\n\n//go:generate stringer -type=Kind\n|\n"),
        ("go", "package x\n\n//nolint:gocyclo\n|\n"),
        ("c", "#ifdef DEBUG\n|\n"),
        ("c", "#ifdef X\nint a;\n#else\n|\n"),
        ("cpp", "#if A\n#elif B\n|\n"),
        ("c", "#undef MAX\n|\n"),
        ("c", "#error unsupported\n|\n"),
        ("csharp", "#nullable enable\n|\n"),
    ],
)
def test_directives_license_headers_and_separators_ask_for_nothing(
    language: str, text: str
) -> None:
    prefix, suffix = _split(text)
    assert describes_code(prefix, suffix, language) is None


@pytest.mark.parametrize(
    "text",
    [
        "# -*- coding: utf-8 -*-\n|\n",
        "# noqa\n|\n",
        "#ifdef DEBUG\n|\n",
        "#elif B\n|\n",
        "#nullable enable\n|\n",
        "# ----\n|\n",
        "// =====\n|\n",
    ],
)
def test_directives_are_no_request_when_the_language_is_unknown(text: str) -> None:
    assert describes_code(*_split(text)) is None


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("javascript", "class Counter {\n  #count = 0;\n  |\n}\n"),
        ("typescript", "class Counter {\n  #total = 0;\n  |\n}\n"),
        ("c", "void f(int count) {\n    while (count > 0) {\n        --count;\n        |\n    }\n"),
        ("javascript", "function f(index) {\n  --index;\n  |\n  return index;\n}\n"),
        ("c", "int main(void) {\n    int x = 1; /* counter */\n    |\n}\n"),
        ("javascript", "const x = compute(); /* cached */\n|\n"),
        ("python", "total = compute()\n/* not python */\n|\n"),
    ],
)
def test_code_that_only_looks_like_a_comment_asks_for_nothing(language: str, text: str) -> None:
    prefix, suffix = _split(text)
    assert describes_code(prefix, suffix, language) is None


def test_a_trailing_block_comment_is_no_comment_block_in_any_language() -> None:
    assert describes_code(*_split("int x = 1; /* counter */\n|\n")) is None


def test_a_directive_above_a_real_request_is_left_out_of_the_description() -> None:
    text = "# -*- coding: utf-8 -*-\n# parse the config file\n|"
    request = describes_code(*_split(text), "python")
    assert request is not None and request.source == "comment"
    assert request.description == "parse the config file"


def test_a_def_line_with_a_trailing_comment_and_a_docstring_asks_for_the_body() -> None:
    request = describes_code(*_split('def f(x):  # helper\n    """Square x."""\n    |\n'))
    assert request is not None and request.source == "docstring"
    assert request.description == "Square x."


def test_a_doc_comment_above_a_multi_line_signature_asks_for_the_body() -> None:
    text = "/** Sum the prices. */\nfunction total(\n  items: Item[],\n): number {\n  |\n}\n"
    request = describes_code(*_split(text), "typescript")
    assert request is not None and request.source == "doc-comment"
    assert request.description == "Sum the prices."


def _asked_tokens(prefix: str, suffix: str, path: str) -> tuple[CompletionKind, int]:
    backend = ScriptedBackend("x = 1\ny = 2\n")
    result = complete(
        backend,
        CompletionRequest(prefix, suffix, invoked=False, path=path, uri=f"file:///x/{path}"),
        GenerationOptions(max_new_tokens=128),
        CancelToken(),
    )
    return result.kind, backend.options[-1].max_new_tokens


def test_a_comment_like_line_inside_a_string_literal_is_no_request() -> None:
    kind, tokens = _asked_tokens('s = """\n# Title\n', '\n"""\n', "t.py")
    assert kind is CompletionKind.SINGLE_LINE and tokens == 128


@pytest.mark.parametrize(
    ("prefix", "suffix", "path"),
    [
        ("class Counter {\n  #count = 0;\n  ", "\n}\n", "t.js"),
        ("//go:build linux\n", "\npackage x\n", "t.go"),
    ],
)
def test_the_pipeline_passes_the_language(prefix: str, suffix: str, path: str) -> None:
    assert _asked_tokens(prefix, suffix, path)[1] == 128
