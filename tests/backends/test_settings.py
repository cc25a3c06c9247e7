"""Backend and decoding settings: parsing, the options they give, and which need a reload."""

from __future__ import annotations

from copilot_lsp.backends import RemoteOptions
from copilot_lsp.config import Settings, generation_options, parse_settings
from copilot_lsp.model_host import ModelSpec


def test_backend_settings_in_camel_case() -> None:
    parsed = parse_settings(
        {
            "backend": "openai",
            "serverUrl": "http://gpu:8000/v1",
            "apiModel": "",
            "apiKeyEnv": "MY_KEY",
            "requestTimeout": 12,
            "connectTimeout": 1.5,
            "maxRetries": 0,
            "candidates": 5,
            "topP": 0.9,
            "topK": 0,
            "repetitionPenalty": 1.1,
            "numBeams": 2,
            "timeBudget": 2.5,
        }
    )
    assert parsed.problems == []
    settings = parsed.settings
    assert (settings.backend, settings.server_url, settings.api_key_env) == (
        "openai",
        "http://gpu:8000/v1",
        "MY_KEY",
    )
    assert settings.candidates == 5 and settings.request_timeout == 12.0
    options = generation_options(settings)
    assert (options.top_p, options.top_k, options.repetition_penalty) == (0.9, 0, 1.1)
    assert (options.num_beams, options.time_budget_s) == (2, 2.5)


def test_out_of_range_decoding_settings_fall_back() -> None:
    parsed = parse_settings({"topP": 0, "candidates": 0, "numBeams": 99, "backend": "tgi"})
    assert parsed.settings == Settings()
    assert len(parsed.problems) == 4


def test_no_time_budget_by_default() -> None:
    assert generation_options(Settings()).time_budget_s is None


def test_the_openai_spec_holds_the_connection_and_ignores_local_model_settings() -> None:
    settings = Settings(backend="openai", server_url="http://h:1", api_key_env="K", max_retries=4)
    spec = ModelSpec.of(settings)
    assert spec.model == "http://h:1"
    assert spec.remote == RemoteOptions(
        api_model="", api_key_env="K", connect_timeout_s=5.0, read_timeout_s=30.0, max_retries=4
    )
    # Changing the local model does not reload a remote backend; changing the URL does.
    assert ModelSpec.of(Settings(**{**settings.__dict__, "model": "fast"})) == spec
    assert ModelSpec.of(Settings(**{**settings.__dict__, "server_url": "http://h:2"})) != spec
    assert ModelSpec.of(Settings()).remote is None


def test_the_default_model_follows_the_cores_and_a_core_change_reloads_it() -> None:
    assert Settings().model == "auto"
    two, four = ModelSpec.of(Settings(threads=2)), ModelSpec.of(Settings(threads=4))
    assert (two.model, four.model) == ("fast", "quality")
    assert two != four
    # A preset named outright stays, whatever the threads.
    assert ModelSpec.of(Settings(model="quality", threads=2)).model == "quality"
