"""The llama.cpp backend end to end with the fast preset (Qwen2.5-Coder-0.5B)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot_lsp.backends import load_backend
from copilot_lsp.backends.base import BackendError, CancelToken, GenerationOptions
from copilot_lsp.backends.llamacpp import LlamaCppBackend
from copilot_lsp.prompt.fim import QWEN25_CODER

pytestmark = pytest.mark.model

PREFIX = "def mean(values: list[float]) -> float:\n    total = sum(values)\n    return "
PROMPT = QWEN25_CODER.render(PREFIX, "\n\n\nprint(mean([1.0, 2.0]))\n")
GREEDY = GenerationOptions(max_new_tokens=12, stop_texts=QWEN25_CODER.stop_texts)


@pytest.fixture(scope="module")
def backend(fast_gguf: Path) -> Iterator[LlamaCppBackend]:
    loaded = load_backend("llamacpp", str(fast_gguf), 2048, 0)
    assert isinstance(loaded, LlamaCppBackend)
    yield loaded
    loaded.close()


def test_greedy_answer_has_a_mean_logprob(backend: LlamaCppBackend) -> None:
    generation = backend.generate(PROMPT, GREEDY, CancelToken())
    assert "total" in generation.text and "len(values)" in generation.text
    assert generation.finish_reason == "stop_token"
    assert generation.mean_logprob is not None and -5 < generation.mean_logprob <= 0


def test_kv_reuse_gives_the_answer_of_a_fresh_evaluation(backend: LlamaCppBackend) -> None:
    backend.generate(PROMPT, GREEDY, CancelToken())
    typed = PROMPT.replace("return ", "return total")  # one more keystroke
    reused = backend.generate(typed, GREEDY, CancelToken())
    backend.reset_cache()
    fresh = backend.generate(typed, GREEDY, CancelToken())
    unchanged = backend.count_tokens(QWEN25_CODER.prefix + PREFIX.removesuffix("return "))
    assert reused.reused_prompt_tokens >= unchanged - 1
    assert fresh.reused_prompt_tokens == 0
    assert reused.text == fresh.text
    # Batching differs (a few tokens against the whole prompt): equal up to rounding.
    assert reused.mean_logprob == pytest.approx(fresh.mean_logprob, abs=0.05)


def test_a_cancel_stops_within_a_few_tokens(backend: LlamaCppBackend) -> None:
    cancel = CancelToken()
    produced: list[str] = []

    def cancel_on_second_token(text: str) -> bool:
        produced.append(text)
        if len(produced) == 2:
            cancel.cancel()
        return False

    options = GenerationOptions(max_new_tokens=200)
    generation = backend.generate("def long_story():\n", options, cancel, cancel_on_second_token)
    assert generation.finish_reason == "cancelled"
    assert generation.completion_tokens == 2


def test_a_cancel_before_the_start_does_no_decoding(backend: LlamaCppBackend) -> None:
    cancel = CancelToken()
    cancel.cancel()
    backend.reset_cache()
    generation = backend.generate(PROMPT, GREEDY, cancel)
    assert (generation.finish_reason, generation.completion_tokens) == ("cancelled", 0)


@pytest.mark.parametrize("finish_prompt", [False, True])
def test_a_cancelled_request_evaluates_its_prompt_only_when_allowed(
    backend: LlamaCppBackend, finish_prompt: bool
) -> None:
    """While nothing else waits for the model, a cancelled request still puts its prompt
    into the KV cache (several chunks long here), for the editor's next request."""
    long_prompt = QWEN25_CODER.render(PREFIX * 12, "\n")
    cancel = CancelToken(finish_prompt=lambda: finish_prompt)
    cancel.cancel()
    backend.reset_cache()
    cancelled = backend.generate(long_prompt, GREEDY, cancel)
    assert (cancelled.finish_reason, cancelled.completion_tokens) == ("cancelled", 0)
    assert cancelled.prompt_tokens > 3 * 64
    next_request = backend.generate(long_prompt, GREEDY, CancelToken())
    expected = cancelled.prompt_tokens - 1 if finish_prompt else 0
    assert next_request.reused_prompt_tokens == expected


def test_the_time_budget_ends_generation(backend: LlamaCppBackend) -> None:
    options = GenerationOptions(max_new_tokens=200, time_budget_s=1e-3)
    generation = backend.generate("def long_story():\n", options, CancelToken())
    assert generation.finish_reason == "time_budget"
    assert generation.completion_tokens == 0


def test_seeded_sampling_is_reproducible(backend: LlamaCppBackend) -> None:
    options = GenerationOptions(
        max_new_tokens=8, temperature=1.0, top_k=50, top_p=0.95, seed=3, repetition_penalty=1.1
    )
    first = backend.generate("import os\nimport ", options, CancelToken())
    second = backend.generate("import os\nimport ", options, CancelToken())
    assert first.text == second.text and first.completion_tokens > 0
    assert first.mean_logprob is not None and math.isfinite(first.mean_logprob)


def test_invalid_options_are_a_backend_error(backend: LlamaCppBackend) -> None:
    with pytest.raises(BackendError, match="top-p"):
        backend.generate("x", GenerationOptions(temperature=0.5, top_p=2.0), CancelToken())


def test_missing_and_corrupt_model_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="could not load"):
        load_backend("llamacpp", str(tmp_path / "missing.gguf"), 2048, 0)
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + b"\x00\x01" * 500)
    with pytest.raises(BackendError, match="could not load"):
        load_backend("llamacpp", str(corrupt), 2048, 0)


def test_drafted_decoding_leaves_a_cache_the_next_request_can_reuse(
    backend: LlamaCppBackend,
) -> None:
    rows = "".join(f'    "{name}": _check_{name},\n' for name in ("alpha", "beta", "gamma"))
    prompt = f'RULES = {{\n{rows}    "'  # a plain causal prompt: the answer extends it
    backend.reset_cache()
    drafted = backend.generate(
        prompt, GenerationOptions(max_new_tokens=24, draft_tokens=4), CancelToken()
    )
    assert drafted.completion_tokens > 4 and drafted.text.strip()
    backend.reset_cache()
    plain = backend.generate(prompt, GenerationOptions(max_new_tokens=24), CancelToken())
    # Batched passes round differently, but a pattern this clear decodes the same.
    assert drafted.text == plain.text
    # The user accepts the answer: the next prompt is the old one plus the answer, whose
    # tokens the drafted loop fed in batches (discarding wrong guesses) and left cached.
    typed = prompt + drafted.text
    backend.generate(prompt, GenerationOptions(max_new_tokens=24, draft_tokens=4), CancelToken())
    reused = backend.generate(typed, GREEDY, CancelToken())
    backend.reset_cache()
    fresh = backend.generate(typed, GREEDY, CancelToken())
    assert reused.reused_prompt_tokens >= backend.count_tokens(prompt) + 4
    assert reused.text == fresh.text


def test_a_prompt_ending_inside_a_word_is_healed(backend: LlamaCppBackend) -> None:
    """``sqlite3.Connectio`` splits into ``.Connect`` ``io``, a split the model never saw
    (``.Connection`` is one token): healing drops the word and lets the model write it."""
    prompt = QWEN25_CODER.render(
        "import sqlite3\n\n\n",
        "\n    return sqlite3.connect(path)\n",
        "def open_db(path: str) -> sqlite3.Connectio",
    )
    healing = dataclasses.replace(GREEDY, token_healing=True)
    healed = backend.generate(prompt, healing, CancelToken())
    assert healed.text.startswith("n:")
    assert healed.prompt_tokens == backend.count_tokens(prompt.removesuffix(".Connectio"))


def _file_prompt(module: str, typed: str = "") -> str:
    """A FIM prompt of a few hundred tokens, cut from one of the project's own files."""
    source = (Path(__file__).parents[2] / "copilot_lsp" / module).read_text()
    return QWEN25_CODER.render(source[:2500] + typed, "\n")


def test_going_back_to_a_file_brings_its_cache_back(backend: LlamaCppBackend) -> None:
    """A prompt from another file would drop the cache; it is kept aside and restored when
    the first file's prompt comes back, and answers exactly as a fresh evaluation does."""
    first, other = _file_prompt("postprocess.py"), _file_prompt("syntax.py")
    assert backend.count_tokens(first) > 500 and backend.count_tokens(other) > 500
    backend.generate(first, GREEDY, CancelToken())
    assert backend.generate(other, GREEDY, CancelToken()).reused_prompt_tokens < 10
    typed = _file_prompt("postprocess.py", typed="#")  # one keystroke on
    back = backend.generate(typed, GREEDY, CancelToken())
    assert back.reused_prompt_tokens >= backend.count_tokens(first) - 8
    backend.reset_cache()
    fresh = backend.generate(typed, GREEDY, CancelToken())
    assert fresh.reused_prompt_tokens == 0
    assert back.text == fresh.text
    # Batching differs (the tail against the whole prompt): equal up to rounding.
    assert back.mean_logprob == pytest.approx(fresh.mean_logprob, abs=0.05)


def test_short_prompts_are_not_kept_aside(backend: LlamaCppBackend) -> None:
    backend.reset_cache()
    backend.generate(PROMPT, GREEDY, CancelToken())
    backend.generate(_file_prompt("syntax.py"), GREEDY, CancelToken())
    again = backend.generate(PROMPT, GREEDY, CancelToken())
    assert again.reused_prompt_tokens < 5  # evaluated again: cheaper than keeping it


def test_a_lone_surrogate_in_the_prompt_is_no_error(backend: LlamaCppBackend) -> None:
    """Valid JSON can carry a lone surrogate into a document; it reaches the prompt."""
    prompt = QWEN25_CODER.render('NAME = "a\ud800b"\n' + PREFIX, "\n")
    generation = backend.generate(prompt, GREEDY, CancelToken())
    assert generation.text and generation.prompt_tokens > 0
