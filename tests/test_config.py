import json
from pathlib import Path

from copilot_lsp.config import Settings, parse_settings


def test_defaults_when_nothing_is_given() -> None:
    assert parse_settings(None).settings == Settings()


def test_valid_values_are_taken_in_both_spellings() -> None:
    parsed = parse_settings({"copilot": {"model": "fast", "maxNewTokens": 64, "temperature": 1}})
    assert parsed.settings.model == "fast"
    assert parsed.settings.max_new_tokens == 64
    assert parsed.settings.temperature == 1.0
    assert parsed.problems == []


def test_invalid_values_fall_back_and_are_reported() -> None:
    base = Settings(max_new_tokens=50)
    parsed = parse_settings(
        {"max_new_tokens": -3, "temperature": "hot", "backend": "gpu-magic", "colour": 1}, base
    )
    assert parsed.settings == base
    assert len(parsed.problems) == 4
    assert any("max_new_tokens" in problem and "50" in problem for problem in parsed.problems)


def test_booleans_and_non_finite_numbers_are_rejected() -> None:
    parsed = parse_settings({"max_new_tokens": True, "temperature": float("nan")})
    assert parsed.settings == Settings()
    assert len(parsed.problems) == 2


def test_a_non_object_is_reported() -> None:
    parsed = parse_settings(["model"])
    assert parsed.settings == Settings()
    assert parsed.problems


def test_request_flow_switches_parse_as_booleans() -> None:
    parsed = parse_settings({"typingThrough": False, "cache": "no", "debounceMs": 0})
    assert parsed.settings.typing_through is False and parsed.settings.debounce_ms == 0
    assert parsed.settings.cache is True and any("'cache'" in p for p in parsed.problems)


def test_null_puts_a_setting_back_to_its_default() -> None:
    base = Settings(model="tiny", max_new_tokens=2)
    parsed = parse_settings({"maxNewTokens": None}, base)
    assert parsed.settings == Settings(model="tiny")
    assert parsed.problems == []


def test_the_listener_token_is_no_unknown_setting() -> None:
    parsed = parse_settings({"model": "tiny", "token": "s3cret"})
    assert parsed.problems == [] and parsed.settings == Settings(model="tiny")


def test_the_vscode_settings_default_to_the_servers_defaults() -> None:
    """What the settings UI shows as the default is what the server does when the setting
    is left alone (the extension sends only the settings the user set; "" is unset)."""
    manifest = json.loads(
        (Path(__file__).parents[1] / "editor-extension/vscode/package.json").read_text()
    )
    properties = manifest["contributes"]["configuration"]["properties"]
    compared = []
    for key, schema in properties.items():
        name, default = key.removeprefix("copilot."), schema.get("default")
        parsed = parse_settings({name: default})
        if default == "" or any("unknown" in problem for problem in parsed.problems):
            continue  # unset, or a setting of the extension itself (pythonPath, enable, ...)
        assert parsed.problems == [], key
        assert parsed.settings == Settings(), key
        compared.append(name)
    assert {"model", "backend", "maxNewTokens", "threads"} <= set(compared)
