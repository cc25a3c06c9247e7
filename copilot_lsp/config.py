"""Typed, defaulted settings.

Settings arrive as ``initializationOptions`` and ``workspace/didChangeConfiguration``
(either flat or under a ``copilot`` key). Invalid values fall back to the defaults and
are reported back as messages, so a typo never takes the server down.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from copilot_lsp.backends.base import GenerationOptions
from copilot_lsp.models import DEFAULT_PRESET

BACKENDS = ("llamacpp", "transformers", "openai")


@dataclass(frozen=True)
class Settings:
    model: str = DEFAULT_PRESET
    """A preset name (auto, quality, fast, tiny) or the path of a local GGUF file; auto is
    quality from 4 cores on and fast below."""
    backend: str = "llamacpp"
    """The inference engine that runs the model."""
    max_new_tokens: int = 128
    """The most tokens one suggestion may have."""
    temperature: float = 0.0
    """0 decodes greedily; higher values sample (top-p 0.95)."""
    context_window: int = 4096
    """The model's context size, in tokens (prompt plus completion)."""
    prompt_tokens: int = 2048
    """The prompt's token budget (window of the file plus cross-file context) when the
    user asks for a suggestion."""
    typing_prompt_tokens: int = 1024
    """The same for the automatic requests while typing: the first one at a new place in a
    large file evaluates the whole prompt (~13 ms a token for the 1.5B model on 2 cores);
    `bench latency` measured p50 1170 ms here against 1834 ms with 2048."""
    threads: int = 0
    """CPU threads for inference; 0 uses every available core."""
    naive_baseline: bool = False
    """Benchmarks only: a fresh prompt per request, no KV-cache reuse, no answer cache and
    no typing-through (the baseline `copilot-lsp bench latency` compares against)."""
    # --- request flow, cache and usage log (features/completion_service.py) ---
    cache: bool = True
    """Answer a prompt seen before (same model and options) from the cache."""
    typing_through: bool = True
    """While the user types the start of the suggestion shown, answer with its rest."""
    debounce_ms: int = 150
    """Longest server-side wait before an automatic request runs (adapts to typing speed;
    0 = none). Invoked requests never wait."""
    precompute: bool = True
    """After a suggestion is shown, compute the next line's suggestion (the state after
    accepting it and pressing Enter) in idle time, for typing-through; costs CPU while idle."""
    usage_log: bool = True
    """Record shown/accepted/rejected events in a local file (for `copilot-lsp stats`)."""
    usage_log_text: bool = False
    """Also record the suggested text in the usage log (off: sizes and timings only)."""
    # --- backends and decoding ---
    top_p: float = 0.95
    """Nucleus sampling mass (used when temperature > 0)."""
    top_k: int = 40
    """Sample among the k most likely tokens; 0 turns it off."""
    repetition_penalty: float = 1.0
    """Above 1 discourages repeating tokens already seen (1 = off)."""
    num_beams: int = 1
    """Beam search width (transformers backend only)."""
    time_budget: float = 0.0
    """Wall-clock seconds one suggestion may take; 0 = no limit."""
    draft_tokens: int = 0
    """Greedy llama.cpp decoding checks up to this many tokens guessed from the prompt in
    one batch (prompt-lookup drafting; same answer up to rounding, fewer passes); 0 = off."""
    candidates: int = 3
    """Suggestions to compute for an invoked (explicit) request, to cycle through."""
    server_url: str = "http://127.0.0.1:8000"
    """Base URL of the OpenAI-compatible server (backend "openai")."""
    api_model: str = ""
    """Model name sent to that server; empty asks the server (first of /v1/models)."""
    api_key_env: str = "COPILOT_LSP_API_KEY"
    """Name of the environment variable that holds the API key (the key itself is never a
    setting)."""
    request_timeout: float = 30.0
    """Seconds to wait for the server's next streamed token."""
    connect_timeout: float = 5.0
    """Seconds to wait for a connection to the server."""
    max_retries: int = 2
    """Retries of a failed connection or a 429/5xx answer, before any token arrived."""
    # --- end backends and decoding ---


def generation_options(settings: Settings) -> GenerationOptions:
    """The decoding options the settings ask for (per request; stop texts come later)."""
    return GenerationOptions(
        max_new_tokens=settings.max_new_tokens,
        temperature=settings.temperature,
        top_p=settings.top_p,
        top_k=settings.top_k,
        repetition_penalty=settings.repetition_penalty,
        num_beams=settings.num_beams,
        time_budget_s=settings.time_budget or None,
        draft_tokens=settings.draft_tokens,
        reuse_kv=not settings.naive_baseline,
    )


@dataclass(frozen=True)
class _Rule:
    kind: type
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    allow_empty: bool = False


_RULES: dict[str, _Rule] = {
    "model": _Rule(str),
    "backend": _Rule(str, choices=BACKENDS),
    "max_new_tokens": _Rule(int, 1, 2048),
    "temperature": _Rule(float, 0.0, 2.0),
    "context_window": _Rule(int, 256, 131072),
    "prompt_tokens": _Rule(int, 64, 131072),
    "typing_prompt_tokens": _Rule(int, 64, 131072),
    "threads": _Rule(int, 0, 512),
    "naive_baseline": _Rule(bool),
    "cache": _Rule(bool),
    "typing_through": _Rule(bool),
    "debounce_ms": _Rule(int, 0, 2000),
    "precompute": _Rule(bool),
    "usage_log": _Rule(bool),
    "usage_log_text": _Rule(bool),
    "top_p": _Rule(float, 0.01, 1.0),
    "top_k": _Rule(int, 0, 100000),
    "repetition_penalty": _Rule(float, 0.5, 2.0),
    "num_beams": _Rule(int, 1, 8),
    "time_budget": _Rule(float, 0.0, 600.0),
    "draft_tokens": _Rule(int, 0, 64),
    "candidates": _Rule(int, 1, 10),
    "server_url": _Rule(str),
    "api_model": _Rule(str, allow_empty=True),
    "api_key_env": _Rule(str),
    "request_timeout": _Rule(float, 0.1, 3600.0),
    "connect_timeout": _Rule(float, 0.1, 600.0),
    "max_retries": _Rule(int, 0, 10),
}

_ALIASES = {
    "maxNewTokens": "max_new_tokens",
    "contextWindow": "context_window",
    "promptTokens": "prompt_tokens",
    "typingPromptTokens": "typing_prompt_tokens",
    "naiveBaseline": "naive_baseline",
    "typingThrough": "typing_through",
    "debounceMs": "debounce_ms",
    "usageLog": "usage_log",
    "usageLogText": "usage_log_text",
    "topP": "top_p",
    "topK": "top_k",
    "repetitionPenalty": "repetition_penalty",
    "numBeams": "num_beams",
    "timeBudget": "time_budget",
    "draftTokens": "draft_tokens",
    "serverUrl": "server_url",
    "apiModel": "api_model",
    "apiKeyEnv": "api_key_env",
    "requestTimeout": "request_timeout",
    "connectTimeout": "connect_timeout",
    "maxRetries": "max_retries",
}


NOT_SETTINGS = frozenset({"token"})
"""initializationOptions members read elsewhere: a network listener's token (rpc_guard)."""


@dataclass
class ParsedSettings:
    settings: Settings
    problems: list[str] = field(default_factory=list)


def _check(name: str, value: Any, rule: _Rule) -> Any:
    """Return the validated value or raise ValueError with a user-facing reason."""
    if rule.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if (isinstance(value, bool) and rule.kind is not bool) or not isinstance(value, rule.kind):
        raise ValueError(f"expected {rule.kind.__name__}, got {type(value).__name__}")
    if rule.kind is float and not math.isfinite(value):
        raise ValueError("expected a finite number")
    if rule.kind is str and not rule.allow_empty and not value.strip():
        raise ValueError("must not be empty")
    if rule.choices is not None and value not in rule.choices:
        raise ValueError(f"must be one of {', '.join(rule.choices)}")
    if rule.low is not None and value < rule.low:
        raise ValueError(f"must be at least {rule.low:g}")
    if rule.high is not None and value > rule.high:
        raise ValueError(f"must be at most {rule.high:g}")
    return value


def parse_settings(raw: Any, base: Settings | None = None) -> ParsedSettings:
    """Merge client-supplied options over ``base``; bad entries keep the base value and
    ``null`` puts a setting back to its default (a client's way to clear it)."""
    base = base or Settings()
    if raw is None:
        return ParsedSettings(base)
    if isinstance(raw, dict) and isinstance(raw.get("copilot"), dict):
        raw = raw["copilot"]
    if not isinstance(raw, dict):
        return ParsedSettings(base, [f"settings must be an object, got {type(raw).__name__}"])
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        if key in NOT_SETTINGS:
            continue
        name = _ALIASES.get(key, key)
        rule = _RULES.get(name)
        if rule is None:
            problems.append(f"unknown setting {key!r} ignored")
            continue
        if value is None:
            values[name] = getattr(Settings(), name)
            continue
        try:
            values[name] = _check(name, value, rule)
        except ValueError as error:
            default = getattr(base, name)
            problems.append(f"setting {key!r}={value!r} {error}; using {default!r}")
    return ParsedSettings(dataclasses.replace(base, **values), problems)
