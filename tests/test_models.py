"""Joining model parts and checking their hash, on small files."""

import hashlib
from pathlib import Path

import pytest

from copilot_lsp import models


def _fake_preset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sha256: str) -> None:
    parts = []
    for index, content in enumerate([b"GGUF", b"-weights-", b"end"]):
        part = tmp_path / f"part{index}.bin"
        part.write_bytes(content)
        parts.append(part)
    preset = models.Preset("toy", "toy model", ("toy",), "x", 16, sha256, "req.txt", "MIT")
    monkeypatch.setitem(models.PRESETS, "toy", preset)
    monkeypatch.setattr(models, "part_files", lambda _: parts)
    monkeypatch.setenv("COPILOT_LSP_CACHE", str(tmp_path / "cache"))


def test_parts_are_joined_once_and_verified(monkeypatch, tmp_path) -> None:
    _fake_preset(monkeypatch, tmp_path, hashlib.sha256(b"GGUF-weights-end").hexdigest())
    path = models.resolve_model("toy")
    assert path.read_bytes() == b"GGUF-weights-end"
    monkeypatch.setattr(models, "part_files", lambda _: pytest.fail("joined again"))
    assert models.resolve_model("toy") == path


def test_a_hash_mismatch_is_a_clear_error_and_leaves_no_file(monkeypatch, tmp_path) -> None:
    _fake_preset(monkeypatch, tmp_path, "0" * 64)
    with pytest.raises(models.ModelError, match="does not match its pinned sha256"):
        models.resolve_model("toy")
    assert not list((tmp_path / "cache" / "models").glob("*.gguf"))


def test_a_changed_cached_file_is_rebuilt(monkeypatch, tmp_path) -> None:
    _fake_preset(monkeypatch, tmp_path, hashlib.sha256(b"GGUF-weights-end").hexdigest())
    path = models.resolve_model("toy")
    path.write_bytes(b"tampered!!!!!!!!")
    assert models.resolve_model("toy").read_bytes() == b"GGUF-weights-end"


def test_a_missing_package_names_the_install_command() -> None:
    preset = models.Preset("x", "x", ("no-such-model-part",), "x", 1, "0" * 64, "req.txt", "MIT")
    with pytest.raises(models.ModelError, match=r"require-hashes -r req\.txt"):
        models.part_files(preset)


def test_an_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(models.ModelError, match="neither a preset"):
        models.resolve_model("/no/such/model.gguf")


def test_auto_picks_the_preset_for_the_cores_the_model_gets(monkeypatch) -> None:
    assert [models.preset_for_cores(n) for n in (1, 2, 3, 4, 16)] == [
        "fast",
        "fast",
        "fast",
        "quality",
        "quality",
    ]
    assert models.concrete_model("auto", threads=2) == "fast"
    assert models.concrete_model("auto", threads=4) == "quality"
    # threads 0 means every core the process may run on.
    monkeypatch.setattr(models, "available_cores", lambda: 2)
    assert models.concrete_model("auto") == "fast"
    monkeypatch.setattr(models, "available_cores", lambda: 8)
    assert models.concrete_model("auto") == "quality"
    # Anything but auto is taken as given, whatever the machine.
    assert models.concrete_model("quality", threads=1) == "quality"
    assert models.concrete_model("/m/x.gguf", threads=1) == "/m/x.gguf"


def test_auto_resolves_to_the_file_of_the_preset_it_picks(monkeypatch) -> None:
    joined: list[str] = []
    monkeypatch.setattr(
        models, "ensure_preset_file", lambda name, _progress: joined.append(name) or Path(name)
    )
    monkeypatch.setattr(models, "available_cores", lambda: 2)
    assert models.resolve_model("auto") == Path("fast")
    monkeypatch.setattr(models, "available_cores", lambda: 6)
    assert models.resolve_model("auto") == Path("quality")
    assert joined == ["fast", "quality"]
