"""The generation cache and typing-through."""

import pytest

from copilot_lsp.backends.base import CancelToken, GenerationOptions
from copilot_lsp.cache import (
    CachingBackend,
    GenerationCache,
    Shown,
    TypingThrough,
    cache_key,
    forward,
)
from copilot_lsp.postprocess import after_cache
from tests.fakes import ScriptedBackend


def test_cache_answers_a_repeated_prompt_without_the_model() -> None:
    backend = ScriptedBackend("x + 1")
    caching = CachingBackend(backend, GenerationCache())
    first = caching.generate("p", GenerationOptions(), CancelToken())
    again = caching.generate("p", GenerationOptions(), CancelToken())
    assert again.text == first.text and backend.prompts == ["p"] and caching.last_was_hit


@pytest.mark.parametrize(
    ("prompt", "options"),
    [("other prompt", GenerationOptions()), ("p", GenerationOptions(temperature=0.5))],
)
def test_other_prompt_or_options_miss(prompt: str, options: GenerationOptions) -> None:
    backend = ScriptedBackend("x")
    caching = CachingBackend(backend, GenerationCache())
    caching.generate("p", GenerationOptions(), CancelToken())
    caching.generate(prompt, options, CancelToken())
    assert len(backend.prompts) == 2 and not caching.last_was_hit


def test_key_includes_the_model() -> None:
    a, b = ScriptedBackend("x", model_path="a.gguf"), ScriptedBackend("x", model_path="b.gguf")
    assert cache_key("p", a, GenerationOptions()) != cache_key("p", b, GenerationOptions())


def test_least_recently_used_entry_goes_first() -> None:
    cache = GenerationCache(capacity=2)
    backend = ScriptedBackend("x")
    caching = CachingBackend(backend, cache)
    for prompt in ("a", "b", "a", "c"):  # "a" is used again, so "b" is evicted by "c"
        caching.generate(prompt, GenerationOptions(), CancelToken())
    assert len(cache) == 2
    caching.generate("a", GenerationOptions(), CancelToken())
    assert caching.last_was_hit
    caching.generate("b", GenerationOptions(), CancelToken())
    assert not caching.last_was_hit


def test_cancelled_generation_is_not_stored() -> None:
    backend = ScriptedBackend("x")
    caching = CachingBackend(backend, GenerationCache())
    token = CancelToken()
    token.cancel()
    caching.generate("p", GenerationOptions(), token)
    caching.generate("p", GenerationOptions(), CancelToken())
    assert len(backend.prompts) == 2


SHOWN = Shown("id1", "x = ", "\n", "compute(a, b)")


@pytest.mark.parametrize(
    ("prefix", "suffix", "rest"),
    [
        ("x = com", "\n", "pute(a, b)"),  # typed the start
        ("x = compute(", ")\n", "a, b)"),  # the editor auto-closed the bracket
        ("x = cx", "\n", None),  # typed something else
        ("x = ", "\n", None),  # nothing typed: a cache matter, not typing-through
        ("x = compute(a, b)", "\n", None),  # all of it typed
        ("x = com", "\nother\n", None),  # the code after the cursor changed
        ("y = com", "\n", None),
    ],
)
def test_forward(prefix: str, suffix: str, rest: str | None) -> None:
    assert forward(SHOWN, prefix, suffix) == rest


def test_forward_in_the_same_state_only_when_asked() -> None:
    assert forward(SHOWN, "x = ", "\n", same_state=True) == "compute(a, b)"
    assert forward(SHOWN, "x = ", "\nother\n", same_state=True) is None


BLOCK = Shown(
    "id2",
    "    for name in ",
    "\n",
    "os.listdir(path):\n        files.append(name)\n    return files",
)


def test_typing_through_a_block_after_an_auto_closed_bracket() -> None:
    """Accepting the rest of the block would push the editor's ")" to its end."""

    def rest(prefix: str, suffix: str) -> str:
        forwarded = forward(BLOCK, prefix, suffix)
        assert forwarded is not None
        return after_cache(forwarded, suffix.split("\n", 1)[0])

    # The editor auto-closed the bracket: only the first line, cut before its ")".
    assert rest("    for name in os.listdir(", ")\n") == "path"
    assert rest("    for name in os.listdir(p", ")\n") == "ath"
    # Nothing auto-closed: the whole rest of the block, as before.
    assert rest("    for name in os.", "\n") == BLOCK.text[len("os.") :]


def test_auto_closed_bracket_before_a_line_break_forwards_nothing() -> None:
    shown = Shown("id3", "x = ", "\n", "f(\n    a,\n)")
    assert forward(shown, "x = f(", ")\n") is None


def test_typing_through_remembers_per_document() -> None:
    typing = TypingThrough()
    typing.remember("file:///a.py", SHOWN)
    found = typing.lookup("file:///a.py", "x = comp", "\n")
    assert found is not None and found.suggestion_id == "id1" and found.text == "ute(a, b)"
    assert typing.lookup("file:///b.py", "x = comp", "\n") is None
    typing.forget("file:///a.py")
    assert typing.lookup("file:///a.py", "x = comp", "\n") is None
