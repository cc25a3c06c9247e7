"""Cross-file holes and the CrossCodeEval sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot_lsp.eval import crossfile
from copilot_lsp.eval.crossfile import (
    find_holes,
    imported_definitions,
    load_cceval,
    load_crossfile,
)
from copilot_lsp.prompt.fim import Budget

HELPER = '''
def helper(x: int, y: int = 2) -> int:
    """Add two numbers.

    More detail that the context leaves out.
    """
    return x + y


class Box:
    """Holds a value."""

    def __init__(self, value):
        self.value = value

    def get(self):
        return self.value

    def _private(self):
        pass
'''

USER = """from .helpers import Box, helper
from os import path


def use(a):
    total = helper(a, 3)
    box = Box.get(Box(total))
    return path.join(str(box), "x")
"""


@pytest.fixture
def package(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "helpers.py").write_text(HELPER)
    (root / "user.py").write_text(USER)
    return root


def test_imported_definitions_resolve_to_sibling_modules(package: Path) -> None:
    found = imported_definitions(package / "user.py", package)
    assert set(found) == {"Box", "helper"}
    assert found["helper"].path == "pkg/helpers.py"
    assert found["helper"].summary.splitlines() == [
        "def helper(x: int, y: int=2) -> int: ...",
        '    """Add two numbers.',
        '    """',
    ]
    box = found["Box"].summary
    assert "def __init__(self, value): ..." in box and "def get(self): ..." in box
    assert "_private" not in box


def test_holes_follow_imported_names_and_rebuild_the_file(package: Path) -> None:
    names = imported_definitions(package / "user.py", package)
    holes = list(find_holes(package / "user.py", package, names))
    assert [h.groundtruth for h in holes] == ["a, 3)", "get(Box(total))"]
    assert [h.task_id for h in holes] == ["crossfile/pkg/user.py:6", "crossfile/pkg/user.py:7"]
    for hole in holes:
        assert hole.prefix + hole.groundtruth + hole.suffix == USER
    assert holes[1].prefix.endswith("box = Box.")
    assert holes[1].names[0] == "Box"  # the name at the cursor comes first


def test_real_packages_give_paired_tasks() -> None:
    tasks = load_crossfile(packages=("click",))
    assert len(tasks) > 50
    groups = {t.group for t in tasks}
    assert groups == {"crossfile/context", "crossfile/no-context"}
    by_problem: dict[str, list[str]] = {}
    for task in tasks:
        assert not task.executable and task.reference.strip()
        by_problem.setdefault(task.problem, []).append(task.task_id.split("#")[1])
    assert all(sorted(v) == ["context", "no-context"] for v in by_problem.values())
    plain = next(t for t in tasks if t.group == "crossfile/no-context")
    source = (
        crossfile.package_dir("click") / plain.problem.split("/", 2)[2].split(":")[0]
    ).read_text()
    assert plain.prefix + plain.reference + plain.suffix == source


def test_no_context_only() -> None:
    tasks = load_crossfile(with_context_too=False, packages=("attr",))
    assert tasks and {t.group for t in tasks} == {"crossfile/no-context"}


def test_cceval_sample_format() -> None:
    tasks = load_cceval()
    assert len(tasks) == 50
    first, second = tasks[0], tasks[1]
    assert first.task_id == "cceval/project_cc_python/397#context"
    assert second.task_id == "cceval/project_cc_python/397#no-context"
    assert first.prefix.startswith("# Here are some relevant code fragments")
    assert first.prefix.endswith("anim = anims.") and second.prefix.endswith("anim = anims.")
    assert len(first.prefix) <= Budget().prefix_chars
    assert first.reference.startswith("fuse(self.graph_scene")


def test_both_variants_go_through_the_context_engine(package: Path) -> None:
    """Same engine, same file header; only the context variant gets snippets, and never
    from the file the hole is in."""
    from copilot_lsp.backends.base import CancelToken, GenerationOptions
    from copilot_lsp.features.inline_completion import complete
    from tests.fakes import ScriptedBackend

    names = imported_definitions(package / "user.py", package)
    hole = list(find_holes(package / "user.py", package, names))[1]
    uri = (package / "user.py").resolve().as_uri()
    prompts = {}
    for variant in (True, False):
        task = crossfile._variants(
            "crossfile", hole.task_id, hole.prefix, hole.prefix, hole.suffix,
            hole.groundtruth, True, uri=uri, context_root=str(package.resolve()),
        )[0 if variant else 1]  # fmt: skip
        assert task.cross_file is variant
        backend = ScriptedBackend("get(Box(total))")
        with crossfile.task_request(task) as request:
            result = complete(backend, request, GenerationOptions(), CancelToken())
        prompts[variant] = backend.prompts[0]
        assert result.text == "get(Box(total))"
        assert {s.path for s in result.snippets} == ({"helpers.py"} if variant else set())
    with_block, without = prompts[True], prompts[False]
    assert "<|file_sep|>helpers.py\n" in with_block and "\nclass Box:" in with_block
    assert "def get(self):" in with_block and "_private" not in with_block
    assert "<|file_sep|>helpers.py" not in without
    for prompt in (with_block, without):
        assert prompt.startswith("<|repo_name|>pkg\n")
        assert "<|file_sep|>user.py\n<|fim_prefix|>" in prompt
        assert hole.groundtruth not in prompt
