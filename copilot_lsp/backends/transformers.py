"""Causal language models through Hugging Face transformers and torch.

Loads a local model directory (safetensors) or a GGUF file. transformers reads a GGUF by
dequantizing every tensor, which is slow, so a GGUF is converted once into a safetensors
directory in the cache and loaded from there afterwards. The KV cache of the previous
request is kept and cropped to the prefix the next prompt shares with it.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, DynamicCache
from transformers.generation import StoppingCriteria as HfStoppingCriteria
from transformers.generation import StoppingCriteriaList

from copilot_lsp.backends.base import (
    BackendError,
    CancelToken,
    Generation,
    GenerationOptions,
    StopCheck,
    available_cores,
    common_prefix_length,
    model_bytes,
)
from copilot_lsp.decoding.healing import VocabularyIndex, heal
from copilot_lsp.decoding.loop import CANCELLED, decode, start_decoding
from copilot_lsp.decoding.stopping import StopCriteria, cut_at_stop_text
from copilot_lsp.models import cache_dir

_PREFILL_CHUNK = 64
"""Prompt tokens evaluated between two cancellation checks."""


def _byte_level_alphabet() -> dict[str, int]:
    """Byte-level BPE (GPT-2, Qwen, SmolLM) spells each byte as one printable character:
    printable Latin-1 bytes as themselves, the rest as code points from 256 upwards."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    shifted = (b for b in range(256) if b not in printable)
    mapping = {chr(b): b for b in printable}
    mapping.update({chr(256 + n): b for n, b in enumerate(shifted)})
    return mapping


_UNICODE_TO_BYTE = _byte_level_alphabet()
_LOAD_ERRORS = (OSError, ValueError, RuntimeError, KeyError, TypeError, ImportError)


def pick_device_and_dtype() -> tuple[str, torch.dtype]:
    """cuda when present (bf16 where the GPU supports it, else fp16), else the CPU in fp32
    (bf16 matmuls run several times slower than fp32 on CPUs without AMX)."""
    if torch.cuda.is_available():
        return "cuda", torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return "cpu", torch.float32


def converted_dir(gguf: Path) -> Path:
    """Where the safetensors conversion of ``gguf`` lives (keyed by its name, size, mtime)."""
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return cache_dir() / "hf" / f"{gguf.stem}-{key.hexdigest()[:16]}"


def convert_gguf(gguf: Path, report: Callable[[str], None] | None = None) -> Path:
    """Convert a GGUF file into a safetensors model directory once; return the directory."""
    target = converted_dir(gguf)
    if (target / "config.json").exists():
        return target
    if report:
        report(f"converting {gguf.name} for transformers (once)")
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.bfloat16
        )
        # Without GGUF matmul kernels transformers dequantizes every tensor while loading; the
        # result is a plain model that only still carries the GGUF "quantizer" label.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        os.replace(partial, target)
    except _LOAD_ERRORS as error:
        raise BackendError(f"transformers could not read the GGUF file {gguf}: {error}") from error
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


class _HfStop(HfStoppingCriteria):
    """Beam search's stop: cancellation or the time budget."""

    def __init__(self, criteria: StopCriteria) -> None:
        self.criteria = criteria

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: object) -> bool:
        return self.criteria.before_token() is not None


class TransformersBackend:
    name = "transformers"
    heals_tokens = True
    """(Greedy and sampled decoding; beam search does not heal.)"""

    def __init__(self, model_path: str, context_window: int = 4096, threads: int = 0) -> None:
        self.model_path = model_path
        path = Path(model_path)
        if path.is_file():
            directory = convert_gguf(path)
        elif path.is_dir():
            directory = path
        else:
            raise BackendError(f"model {model_path!r} is neither a GGUF file nor a directory")
        torch.set_num_threads(threads or available_cores())
        self.device, self.dtype = pick_device_and_dtype()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(directory))
            model = AutoModelForCausalLM.from_pretrained(str(directory), dtype=self.dtype)
            self.model = model.to(self.device).eval()
        except _LOAD_ERRORS as error:
            raise BackendError(f"transformers could not load {directory}: {error}") from error
        # transformers 5.x renames the forward's cache argument; older versions lack ``cache``.
        parameters = inspect.signature(self.model.forward).parameters
        self._cache_argument = "cache" if "cache" in parameters else "past_key_values"
        limit = getattr(self.model.config, "max_position_embeddings", None) or context_window
        self.context_window = min(context_window, int(limit))
        self._cache: DynamicCache | None = None
        self._cached_ids: list[int] = []
        """The tokens whose keys and values are in ``_cache``, in order."""
        self._stop_id_cache: dict[tuple[str, ...], frozenset[int]] = {}
        self._vocabulary: VocabularyIndex | None = None
        if self.device == "cuda":
            # cuDNN's attention kernel (which torch may pick on recent GPUs) plans each new
            # sequence length anew: every decode step and prefill chunk is a new length, and
            # on an H200 that made a 64-token chunk of a 135M model take ~100 ms, not ~5.
            torch.backends.cuda.enable_cudnn_sdp(False)
            self._warm_up()

    def _warm_up(self) -> None:
        """Run one prefill chunk and one decode step at load: CUDA's first kernels (library
        handles, module loading) otherwise cost the first request seconds."""
        filler = self._tokenize("def warm_up():\n    return 0\n" * 16)[:_PREFILL_CHUNK]
        self._prefill(filler, CancelToken())
        self._forward(filler[:1])
        self.reset_cache()

    def count_tokens(self, text: str) -> int:
        return len(self._tokenize(text))

    def _tokenize(self, text: str) -> list[int]:
        return list(self.tokenizer(model_bytes(text).decode("utf-8"))["input_ids"])

    def _stop_ids(self, stop_texts: tuple[str, ...]) -> frozenset[int]:
        """The tokenizer's and generation config's end tokens plus every stop text that is
        one token (a GGUF read by transformers often knows only one of the end markers)."""
        if stop_texts not in self._stop_id_cache:
            ids: set[int] = set()
            for source in (self.tokenizer.eos_token_id, self.model.generation_config.eos_token_id):
                if isinstance(source, int):
                    ids.add(source)
                elif source:
                    ids.update(source)
            vocab = self.tokenizer.get_vocab()
            ids.update(vocab[marker] for marker in stop_texts if marker in vocab)
            self._stop_id_cache[stop_texts] = frozenset(ids)
        return self._stop_id_cache[stop_texts]

    def _token_bytes(self, token: int) -> bytes:
        """The raw bytes of one token. Byte-level BPE pieces are mapped back to bytes, so a
        character split across tokens is joined correctly; other tokenizers decode."""
        piece = self.tokenizer.convert_ids_to_tokens(token)
        if isinstance(piece, str) and all(char in _UNICODE_TO_BYTE for char in piece):
            return bytes(_UNICODE_TO_BYTE[char] for char in piece)
        return self.tokenizer.decode([token]).encode("utf-8")

    def _vocabulary_index(self) -> VocabularyIndex:
        """Built at the first healed prompt; added (special) tokens spell nothing."""
        if self._vocabulary is None:
            special = set(self.tokenizer.added_tokens_decoder)
            pieces = [
                b"" if token in special else self._token_bytes(token)
                for token in range(len(self.tokenizer))
            ]
            self._vocabulary = VocabularyIndex(pieces)
        return self._vocabulary

    def reset_cache(self) -> None:
        """Forget the KV cache (benchmarks compare with and without reuse)."""
        self._cache, self._cached_ids = None, []

    @torch.inference_mode()
    def _forward(self, ids: list[int]) -> np.ndarray:
        """Feed ``ids`` after the cached tokens; the next-token logits as float32."""
        assert self._cache is not None
        output = self.model(
            input_ids=torch.tensor([ids], device=self.device),
            use_cache=True,
            logits_to_keep=1,
            **{self._cache_argument: self._cache},
        )
        self._cached_ids.extend(ids)
        return output.logits[0, -1].float().cpu().numpy()

    def _prefill(self, tokens: list[int], cancel: CancelToken) -> tuple[int, np.ndarray | None]:
        """Evaluate the prompt on top of the cached prefix it shares with the last one.

        Returns how many tokens were reused and the next-token logits (None if cancelled).
        """
        shared = common_prefix_length(self._cached_ids, tokens)
        # Always evaluate at least the last prompt token so that its logits are fresh.
        reuse = min(shared, len(tokens) - 1)
        if self._cache is None or reuse == 0:
            self._cache, self._cached_ids, reuse = DynamicCache(config=self.model.config), [], 0
        elif reuse < len(self._cached_ids):
            self._cache.crop(reuse - len(self._cached_ids))
            del self._cached_ids[reuse:]
        logits = None
        for start in range(reuse, len(tokens), _PREFILL_CHUNK):
            if cancel.prompt_cancelled:
                return reuse, None
            logits = self._forward(tokens[start : start + _PREFILL_CHUNK])
        return reuse, None if cancel.cancelled else logits

    def generate(
        self,
        prompt: str,
        options: GenerationOptions,
        cancel: CancelToken,
        stop_check: StopCheck | None = None,
    ) -> Generation:
        tokens = self._tokenize(prompt)
        healing = None
        if options.token_healing and options.num_beams == 1:
            tokens, healing = heal(tokens, self._vocabulary_index())
        sampler, criteria = start_decoding(
            options,
            cancel,
            self._stop_ids(options.stop_texts),
            len(tokens),
            self.context_window,
            stop_check,
        )
        started = time.perf_counter()
        try:
            if options.num_beams > 1:
                return self._beam_search(tokens, options, criteria, started)
            reused, logits = self._prefill(tokens, cancel)
            prefilled = time.perf_counter()
            if logits is None:
                decoded = CANCELLED
            else:
                decoded = decode(
                    logits,
                    lambda token: self._forward([token]),
                    self._token_bytes,
                    sampler,
                    criteria,
                    list(tokens),
                    healing=healing,
                )
        except torch.OutOfMemoryError as error:
            self.reset_cache()
            raise BackendError(f"out of memory while generating: {error}") from error
        return decoded.generation(len(tokens), reused, started, prefilled)

    @torch.inference_mode()
    def _beam_search(
        self,
        tokens: list[int],
        options: GenerationOptions,
        criteria: StopCriteria,
        started: float,
    ) -> Generation:
        """transformers' own beam search; the score is the best beam's mean log-prob
        (length penalty 1). It does not reuse or keep the incremental cache."""
        self.reset_cache()
        output = self.model.generate(
            input_ids=torch.tensor([tokens], device=self.device),
            attention_mask=torch.ones(1, len(tokens), dtype=torch.long, device=self.device),
            num_beams=options.num_beams,
            do_sample=False,
            max_new_tokens=criteria.budget,
            eos_token_id=sorted(criteria.stop_ids),
            pad_token_id=min(criteria.stop_ids) if criteria.stop_ids else 0,
            length_penalty=1.0,
            repetition_penalty=options.repetition_penalty,
            stopping_criteria=StoppingCriteriaList([_HfStop(criteria)]),
            output_scores=True,
            return_dict_in_generate=True,
        )
        new = [t for t in output.sequences[0, len(tokens) :].tolist() if t not in criteria.stop_ids]
        text = cut_at_stop_text(
            self.tokenizer.decode(new, skip_special_tokens=False), options.stop_texts
        )
        score = getattr(output, "sequences_scores", None)
        finish = criteria.before_token() or (
            "length" if len(new) >= criteria.budget else "stop_token"
        )
        return Generation(
            text=text,
            finish_reason=finish,
            prompt_tokens=len(tokens),
            reused_prompt_tokens=0,
            completion_tokens=len(new),
            prefill_seconds=0.0,
            decode_seconds=time.perf_counter() - started,
            mean_logprob=float(score[0]) if score is not None else None,
        )

    def close(self) -> None:
        self.reset_cache()
        del self.model
