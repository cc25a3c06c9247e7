"""The whole prompt stays within its token budget: long cursor lines, long paths."""

from __future__ import annotations

import pytest

from copilot_lsp.context.snippets import Snippet
from copilot_lsp.features.prompting import build_prompt
from copilot_lsp.prompt.budget import TokenBudget, approximate_tokens
from copilot_lsp.prompt.templates import CAUSAL, QWEN25_CODER, TEMPLATES, FimTemplate

BUDGETS = [
    TokenBudget(),
    TokenBudget(prompt_tokens=1024, suffix_share=0.06, anchor_lines=32, middle_lines=8),
]
LONG_LINE = "data = [" + ", ".join(f'"k{i}"' for i in range(12_000)) + "]"  # ~100k characters
BODY = "".join(f"def f{i}(a, b):\n    return a + b * {i}\n" for i in range(400))
DEEP_PATH = "/".join(f"averyveryverylongdirectoryname{i}" for i in range(30)) + "/m.py"


class FakeEngine:
    """Just what build_prompt asks of a context engine: two snippets that fill the share."""

    def repo_name(self, uri: str) -> str:
        return "project"

    def snippets(self, uri: str, prefix: str, *rest: object) -> list[Snippet]:
        budget_tokens = rest[-2]
        assert isinstance(budget_tokens, int)
        text = "".join(f"value_{i} = {i}\n" for i in range(budget_tokens // 8))
        return [Snippet(f"{DEEP_PATH[:-5]}/lib{n}.py", text, "similar", 1.0) for n in range(2)]


@pytest.mark.parametrize("budget", BUDGETS, ids=["default", "automatic"])
@pytest.mark.parametrize("column", [0, len(LONG_LINE) // 2, len(LONG_LINE)])
def test_a_cursor_in_a_very_long_line_keeps_the_prompt_in_budget(
    budget: TokenBudget, column: int
) -> None:
    prefix = BODY[:3000] + LONG_LINE[:column]
    suffix = LONG_LINE[column:] + "\n" + BODY
    built = build_prompt(
        QWEN25_CODER, prefix, suffix, budget, approximate_tokens, path="data/big.py"
    )
    assert approximate_tokens(built.text) <= budget.prompt_tokens
    # The text on both sides of the cursor is still there.
    assert LONG_LINE[max(column - 200, 0) : column] in built.text
    assert LONG_LINE[column : column + 40] in built.text


@pytest.mark.parametrize("template", [*TEMPLATES, CAUSAL], ids=lambda t: t.family)
@pytest.mark.parametrize("budget", BUDGETS, ids=["default", "automatic"])
def test_a_long_path_is_counted_against_the_budget(
    template: FimTemplate, budget: TokenBudget
) -> None:
    built = build_prompt(
        template, BODY[:6000], BODY[6000:], budget, approximate_tokens, path=DEEP_PATH
    )
    assert DEEP_PATH in built.text
    assert approximate_tokens(built.text) <= budget.prompt_tokens


@pytest.mark.parametrize("template", [*TEMPLATES, CAUSAL], ids=lambda t: t.family)
def test_a_long_path_with_snippets_stays_in_budget(template: FimTemplate) -> None:
    budget = BUDGETS[0]
    built = build_prompt(
        template,
        BODY[:6000],
        BODY[6000:],
        budget,
        approximate_tokens,
        FakeEngine(),  # type: ignore[arg-type]
        uri="file:///w/m.py",
        path=DEEP_PATH,
        language="python",
    )
    assert built.snippets and DEEP_PATH in built.text
    assert approximate_tokens(built.text) <= budget.prompt_tokens
