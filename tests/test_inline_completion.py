"""The inline-completion pipeline with a scripted backend."""

import pytest

from copilot_lsp.backends.base import CancelToken, GenerationOptions
from copilot_lsp.features.inline_completion import (
    AUTOMATIC_BUDGET,
    CompletionRequest,
    complete,
    first_line_so_far,
)
from copilot_lsp.prompt.fim import QWEN25_CODER, Budget, build_prompt
from copilot_lsp.syntax import CompletionKind
from tests.fakes import ScriptedBackend


def run(backend: ScriptedBackend, prefix: str, suffix: str, invoked: bool = False):
    return complete(
        backend, CompletionRequest(prefix, suffix, invoked), GenerationOptions(), CancelToken()
    )


def test_prompt_is_prefix_suffix_middle() -> None:
    backend = ScriptedBackend("len(xs)")
    result = run(backend, "def f(xs):\n    return ", "\n")
    assert backend.prompts == ["<|fim_prefix|>def f(xs):\n    return<|fim_suffix|>\n<|fim_middle|>"]
    assert result.text == "len(xs)"


def test_dangling_space_is_healed() -> None:
    backend = ScriptedBackend(" len(xs)\n")
    assert run(backend, "n = 1 + ", "").text == "len(xs)"


def test_mid_line_answer_is_one_line_without_duplicate_closer() -> None:
    backend = ScriptedBackend("a, b)\n    more()")
    result = run(backend, "print(", ")\n")
    assert result.kind is CompletionKind.SINGLE_LINE
    assert result.text == "a, b"


def test_automatic_trigger_inside_a_word_asks_nothing() -> None:
    backend = ScriptedBackend("x")
    result = run(backend, "fo", "o()")
    assert result.text == "" and backend.prompts == []
    assert run(backend, "fo", "o()", invoked=True).text == "x"


def test_generation_stops_once_the_block_is_left() -> None:
    backend = ScriptedBackend("\n        return 1\n    return 2\n")
    result = run(backend, "def f():\n    if x:", "\n        log(x)\n")
    assert result.generation is not None and result.generation.finish_reason == "stop_check"
    assert result.text == "\n        return 1"


def typing(backend: ScriptedBackend, prefix: str, suffix: str) -> str:
    request = CompletionRequest(prefix, suffix)
    return complete(
        backend, request, GenerationOptions(), CancelToken(), budget=AUTOMATIC_BUDGET
    ).text


def test_while_typing_the_middle_starts_every_eight_lines_for_engines_that_heal() -> None:
    """Everything before the middle marker stays the same while the user types on, so the
    engine's KV cache keeps the suffix; the typed text is healed at the end of the prompt."""
    backend = ScriptedBackend("b\n", heals_tokens=True)
    above = "".join(f"x{line} = {line}\n" for line in range(8))
    suffix = "\n\nprint(add(1, 2))\n"
    assert typing(backend, above + "def add(a, b):\n    return a +", suffix) == "b"
    typing(backend, above + "def add(a, b):\n    return a + b", suffix)
    head = f"<|fim_prefix|>{above}<|fim_suffix|>{suffix}<|fim_middle|>def add(a, b):\n"
    assert backend.prompts == [head + "    return a +", head + "    return a + b"]
    assert all(options.token_healing for options in backend.options)


def test_engines_that_cannot_heal_keep_the_cursor_line_in_the_prefix() -> None:
    plain = "<|fim_prefix|>def add(a, b):\n    return a +<|fim_suffix|>\n<|fim_middle|>"
    backend = ScriptedBackend("b\n")
    typing(backend, "def add(a, b):\n    return a +", "\n")
    beams = ScriptedBackend("b\n", heals_tokens=True)
    request = CompletionRequest("def add(a, b):\n    return a +", "\n")
    complete(beams, request, GenerationOptions(num_beams=2), CancelToken(), budget=AUTOMATIC_BUDGET)
    assert backend.prompts == beams.prompts == [plain]
    assert not backend.options[0].token_healing and not beams.options[0].token_healing


def test_budget_clips_at_line_boundaries() -> None:
    prefix = "".join(f"line {i}\n" for i in range(100))
    prompt = build_prompt(QWEN25_CODER, prefix, "tail\n" * 100, Budget(50, 12))
    body = prompt.removeprefix("<|fim_prefix|>")
    kept_prefix, rest = body.split("<|fim_suffix|>")
    assert kept_prefix.startswith("line ") and kept_prefix.endswith("line 99\n")
    assert rest == "tail\ntail\n<|fim_middle|>"


def test_raw_mode_skips_post_processing_and_the_stop_check() -> None:
    backend = ScriptedBackend("\n        return 1\n    return 2\n<|endoftext|>junk")
    request = CompletionRequest("def f():\n    if x:", "\n        log(x)\n", True)
    result = complete(backend, request, GenerationOptions(), CancelToken(), postprocess=False)
    assert result.text == "\n        return 1\n    return 2\n"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a = r * r", None),  # the line is not finished yet
        ("a = r * r\n    ret", "a = r * r"),
        (
            "total = sum(\n        x for x in xs\n    )\n    ret",
            "total = sum(\n        x for x in xs\n    )",
        ),
        ("total = sum(\n        x", None),  # the statement is still open
        ("\n    ret", ""),  # nothing on the first line
    ],
)
def test_the_first_line_of_an_answer_being_written(raw: str, expected: str | None) -> None:
    assert first_line_so_far(raw, "def f(r, xs):\n    ", "\n", ("<|endoftext|>",)) == expected


def test_the_first_line_so_far_drops_the_spaces_left_out_of_the_prompt() -> None:
    assert first_line_so_far(" 3.14 * r\n", "def f(r):\n    return ", "\n", ()) == "3.14 * r"


def test_an_empty_causal_prompt_asks_no_model() -> None:
    """An empty document with a model without fill-in-the-middle: nothing to go on."""
    from copilot_lsp.prompt.templates import CAUSAL

    backend = ScriptedBackend("print('hello')")
    request = CompletionRequest("", "", invoked=True)
    result = complete(backend, request, GenerationOptions(), CancelToken(), template=CAUSAL)
    assert result.text == "" and backend.prompts == []
