"""The transformers backend end to end with SmolLM2-135M (the tiny preset's GGUF, converted
once to safetensors in the cache)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot_lsp.backends import load_backend
from copilot_lsp.backends.base import BackendError, CancelToken, GenerationOptions

pytestmark = pytest.mark.model
transformers_backend = pytest.importorskip("copilot_lsp.backends.transformers")

PROMPT = "def fibonacci(n):\n    if n < 2:\n        return n\n    return "
GREEDY = GenerationOptions(max_new_tokens=10)


@pytest.fixture(scope="module")
def backend(tiny_gguf: Path) -> Iterator[transformers_backend.TransformersBackend]:
    loaded = load_backend("transformers", str(tiny_gguf), 2048, 0)
    assert isinstance(loaded, transformers_backend.TransformersBackend)
    yield loaded
    loaded.close()


def test_the_gguf_is_converted_once_to_a_plain_safetensors_directory(
    backend: transformers_backend.TransformersBackend, tiny_gguf: Path
) -> None:
    directory = transformers_backend.converted_dir(tiny_gguf)
    assert (directory / "model.safetensors").is_file()
    assert "quantization_config" not in json.loads((directory / "config.json").read_text())
    stamp = (directory / "model.safetensors").stat().st_mtime_ns
    assert transformers_backend.convert_gguf(tiny_gguf) == directory
    assert (directory / "model.safetensors").stat().st_mtime_ns == stamp


def test_greedy_answer_and_its_mean_logprob(
    backend: transformers_backend.TransformersBackend,
) -> None:
    generation = backend.generate(PROMPT, GREEDY, CancelToken())
    assert "fibonacci(n" in generation.text
    assert generation.completion_tokens > 0
    assert generation.mean_logprob is not None and -5 < generation.mean_logprob <= 0


def test_kv_reuse_crops_the_cache_and_matches_a_fresh_evaluation(
    backend: transformers_backend.TransformersBackend,
) -> None:
    backend.generate(PROMPT, GREEDY, CancelToken())
    typed = PROMPT + "fib"  # one more keystroke
    reused = backend.generate(typed, GREEDY, CancelToken())
    backend.reset_cache()
    fresh = backend.generate(typed, GREEDY, CancelToken())
    assert reused.reused_prompt_tokens >= backend.count_tokens(PROMPT) - 2
    assert fresh.reused_prompt_tokens == 0
    assert reused.text == fresh.text
    assert reused.mean_logprob == pytest.approx(fresh.mean_logprob, abs=1e-3)
    # A different prompt sharing only a little keeps only that little.
    other = backend.generate("class Stack:\n", GREEDY, CancelToken())
    assert other.reused_prompt_tokens < 3


def test_a_cancel_stops_within_a_few_tokens(
    backend: transformers_backend.TransformersBackend,
) -> None:
    cancel = CancelToken()
    seen: list[str] = []

    def cancel_on_second_token(text: str) -> bool:
        seen.append(text)
        if len(seen) == 2:
            cancel.cancel()
        return False

    options = GenerationOptions(max_new_tokens=200)
    generation = backend.generate("Once upon a time", options, cancel, cancel_on_second_token)
    assert generation.finish_reason == "cancelled"
    assert generation.completion_tokens == 2


def test_stop_token_ids_end_the_answer(backend: transformers_backend.TransformersBackend) -> None:
    first = backend.generate(PROMPT, GenerationOptions(max_new_tokens=1), CancelToken())
    [token] = backend.tokenizer(first.text, add_special_tokens=False)["input_ids"]
    stopped = backend.generate(
        PROMPT, GenerationOptions(max_new_tokens=5, stop_token_ids=(token,)), CancelToken()
    )
    assert (stopped.text, stopped.finish_reason) == ("", "stop_token")


def test_beam_search_scores_its_best_beam(
    backend: transformers_backend.TransformersBackend,
) -> None:
    options = GenerationOptions(max_new_tokens=6, num_beams=2)
    generation = backend.generate(PROMPT, options, CancelToken())
    assert generation.text.strip() and generation.completion_tokens <= 6
    assert generation.mean_logprob is not None and generation.mean_logprob <= 0


def test_missing_and_corrupt_models_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="neither a GGUF file nor a directory"):
        load_backend("transformers", str(tmp_path / "nothing"), 2048, 0)
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + b"\x00\x01" * 500)
    with pytest.raises(BackendError, match="could not read"):
        load_backend("transformers", str(corrupt), 2048, 0)
    with pytest.raises(BackendError, match="could not load"):
        load_backend("transformers", str(tmp_path), 2048, 0)  # a directory without a model


def test_a_prompt_ending_inside_a_word_is_healed(
    backend: transformers_backend.TransformersBackend,
) -> None:
    """The prompt's unfinished word is dropped and written again by the model: the answer
    goes on from the last typed letter, and special tokens never count as text."""
    typed = PROMPT + "fibon"
    plain = backend.generate(typed, GREEDY, CancelToken())
    healed = backend.generate(
        typed, GenerationOptions(max_new_tokens=10, token_healing=True), CancelToken()
    )
    assert healed.text.startswith("acci(n")
    assert healed.prompt_tokens < plain.prompt_tokens


def test_the_engine_loads_without_llama_cpp_installed() -> None:
    """A transformers-only setup (a GPU machine with torch) need not build llama.cpp."""
    blocked = (
        "import sys\n"
        "class NoLlamaCpp:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'llama_cpp':\n"
        "            raise ImportError('llama_cpp is not installed')\n"
        "sys.meta_path.insert(0, NoLlamaCpp())\n"
        "from copilot_lsp.backends import load_backend\n"
        "import copilot_lsp.backends.transformers\n"
    )
    subprocess.run([sys.executable, "-c", blocked], check=True, timeout=120)


def test_a_lone_surrogate_in_the_prompt_is_no_error(
    backend: transformers_backend.TransformersBackend,
) -> None:
    """Valid JSON can carry a lone surrogate into a document; it reaches the prompt."""
    generation = backend.generate('NAME = "a\ud800b"\n' + PROMPT, GREEDY, CancelToken())
    assert generation.completion_tokens > 0
