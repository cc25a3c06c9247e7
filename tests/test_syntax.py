"""Tree-sitter cursor analysis per language, incremental parsing, test-file conventions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copilot_lsp.syntax import (
    LANGUAGES,
    CompletionKind,
    ParsedDocument,
    analyze_text,
    is_test_file,
    language_of,
    parser_for,
)

NONE, SINGLE, MULTI = CompletionKind.NONE, CompletionKind.SINGLE_LINE, CompletionKind.MULTI_LINE


def at_cursor(code: str, language: str):
    """Analyze ``code`` at its ``|`` marker."""
    cursor = code.index("|")
    return analyze_text(code[:cursor], code[cursor + 1 :], language)


def test_every_language_has_its_grammar() -> None:
    for language in LANGUAGES:
        assert parser_for(language) is not None, language


# (language, code with | at the cursor, expected kind, reason)
KINDS = [
    ("python", "def total(xs):\n    |\n", MULTI, "after a block opener"),
    ("python", "def f(xs):\n    # sum the squares of xs\n    |\n", MULTI, "after a comment"),
    ("python", "value = comp|ute(1)\n", NONE, "mid-identifier"),
    ("python", "print(|)\n", SINGLE, "code to the right"),
    ("python", "# explains the |next part\n", NONE, "inside comment/string"),
    ("python", "x = 1  # the answer|\n", SINGLE, "end of comment/string"),
    ("python", "name = 'hello |world'\n", NONE, "inside comment/string"),
    ("python", "total = add(a,|\n", MULTI, "unfinished statement"),
    ("javascript", "function f(a) {\n  |\n}\n", MULTI, "after a block opener"),
    ("javascript", "const s = `total: ${|}`;\n", SINGLE, "code to the right"),
    ("javascript", "// add all prices\n|\n", MULTI, "after a comment"),
    ("typescript", "const add = (a: number, b: number): number => a +|", MULTI, None),
    ("typescript", "interface P {\n  cents: num|ber;\n}\n", NONE, "mid-identifier"),
    ("tsx", "const A = () => <div>{|}</div>;\n", SINGLE, "code to the right"),
    ("go", "func Count(s string) int {\n\t|\n}\n", MULTI, "after a block opener"),
    ("go", "func f() {\n\t// loop over the words\n\t|\n}\n", MULTI, "after a comment"),
    ("go", 'var s = "ab|cd"\n', NONE, "mid-identifier"),
    ("rust", "fn main() {\n    let x = foo(|);\n}\n", SINGLE, "code to the right"),
    ("rust", "fn main() {\n    |\n}\n", MULTI, "after a block opener"),
    ("java", "class A {\n  int f() {\n    |\n  }\n}\n", MULTI, "after a block opener"),
    ("java", "class A {\n  // the sum of a and b\n  |\n}\n", MULTI, "after a comment"),
    ("c", "int main(void) {\n  /* print the table */\n  |\n}\n", MULTI, "after a comment"),
    ("c", 'int main(void) { printf("%d |", 1); }\n', SINGLE, "end of comment/string"),
    ("c", 'int main(void) { printf("%d|\\n", 1); }\n', NONE, "inside comment/string"),
    ("cpp", "namespace n {\nint f() { return g(|); }\n}\n", SINGLE, "code to the right"),
]


@pytest.mark.parametrize(("language", "code", "kind", "reason"), KINDS)
def test_completion_kind(language: str, code: str, kind: CompletionKind, reason: str) -> None:
    analysis = at_cursor(code, language)
    assert analysis.kind is kind, analysis
    if reason is not None:
        assert analysis.reason == reason


@pytest.mark.parametrize(
    ("language", "code", "scopes"),
    [
        (
            "python",
            "class Cart:\n    def total(self):\n        return |\n",
            ["class Cart", "function total"],
        ),
        ("python", "class A:\n    def f(self):\n        pass\n\n|", []),
        (
            "javascript",
            "class Cart {\n  total() {\n    return |\n  }\n}\n",
            ["class Cart", "method total"],
        ),
        ("go", "func (c *Counter) Inc() {\n\t|\n}\n", ["method Inc"]),
        (
            "rust",
            "impl Foo {\n    fn bar(&self) {\n        |\n    }\n}\n",
            ["impl Foo", "function bar"],
        ),
        ("java", "class A {\n  void run() {\n    |\n  }\n}\n", ["class A", "method run"]),
        ("cpp", "namespace n {\nint f() {\n  |\n}\n}\n", ["namespace n", "function f"]),
    ],
)
def test_enclosing_scopes(language: str, code: str, scopes: list[str]) -> None:
    assert at_cursor(code, language).scopes == scopes


def test_comment_and_string_flags() -> None:
    assert at_cursor("x = 1  # a note|\n", "python").in_comment
    assert at_cursor("s = 'ab |'\n", "python").in_string
    assert not at_cursor("x = f(|)\n", "python").in_string


def test_unknown_language_falls_back_to_the_line_rule() -> None:
    analysis = analyze_text("foo", "bar", None)
    assert analysis.kind is NONE and analysis.reason == "line-based"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("pkg/test_cart.py", True),
        ("pkg/cart_test.py", True),
        ("tests/helpers.py", True),
        ("pkg/cart.py", False),
        ("src/cart.test.ts", True),
        ("src/cart.spec.js", True),
        ("src/__tests__/cart.jsx", True),
        ("src/cart.ts", False),
        ("wordfreq/count_test.go", True),
        ("wordfreq/count.go", False),
        ("crate/tests/integration.rs", True),
        ("src/main/java/CartTest.java", True),
        ("src/main/java/Cart.java", False),
        ("src/cart_test.cc", True),
    ],
)
def test_is_test_file(path: str, expected: bool) -> None:
    assert is_test_file(path) is expected


def test_rust_unit_tests_inside_a_file() -> None:
    assert is_test_file("src/lib.rs", text="#[cfg(test)]\nmod tests {}\n")
    assert not is_test_file("src/lib.rs", text="fn main() {}\n")


def test_language_ids_and_extensions() -> None:
    assert language_of("typescriptreact") == "tsx"
    assert language_of("", "a/b.go") == "go"
    assert language_of("plaintext", "notes.txt") is None


SOURCE = 'def f(x):\n    """Doc 👋."""\n    return x + 1\n\nclass A:\n    y = [1, 2]\n'


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 10**6),
            st.integers(0, 12),
            st.text(alphabet="abc ():=\n\t'\"#👋[]{}", max_size=8),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_incremental_parse_equals_fresh_parse(edits: list[tuple[int, int, str]]) -> None:
    document = ParsedDocument(SOURCE, "python")
    text = SOURCE
    for number, (start, length, inserted) in enumerate(edits):
        start %= len(text) + 1
        text = text[:start] + inserted + text[start + length :]
        document.update(text)
        if number % 2 == 0 and number + 1 < len(edits):
            continue  # two edits between reads: one reparse covers both
        fresh = ParsedDocument(text, "python")
        assert document.tree is not None and fresh.tree is not None
        assert str(document.tree.root_node) == str(fresh.tree.root_node)
        assert document.tree.root_node.end_byte == len(text.encode("utf-8"))


def test_a_lone_surrogate_parses_and_reparses() -> None:
    """Valid JSON can carry a lone surrogate into a document."""
    document = ParsedDocument('x = "a\ud800b"\ndef f(a):\n    return ', "python")
    assert document.tree is not None
    document.update(document.text + "a\udc00")
    assert document.tree is not None and document.tree.root_node.end_point[0] == 2
    analysis = analyze_text('x = "\ud800"\ndef f(a):\n    ', "\n", "python")
    assert analysis.kind is not CompletionKind.NONE


def test_a_document_over_the_size_limit_gets_no_tree_until_it_fits_again() -> None:
    from copilot_lsp.syntax import MAX_PARSED_CHARS

    body = "def f(x):\n    return x\n"
    huge = body * (MAX_PARSED_CHARS // len(body) + 1)
    document = ParsedDocument(huge, "python")
    assert document.tree is None
    assert analyze_text(huge + "def g(y):\n    ", "", "python").kind is not NONE
    document.update(body)
    assert document.tree is not None and document.tree.root_node.type == "module"
    document.update(huge)
    assert document.tree is None


def test_a_document_is_parsed_at_its_first_read_not_when_opened(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Documents open on the event loop; completions read the trees on the model thread."""
    from copilot_lsp import syntax
    from copilot_lsp.context.engine import ContextEngine

    parsed: list[int] = []
    real = parser_for("python")

    class Counting:
        def parse(self, *args):  # type: ignore[no-untyped-def]
            parsed.append(1)
            return real.parse(*args)

    monkeypatch.setattr(syntax, "parser_for", lambda language: Counting())
    engine = ContextEngine(providers=[])
    engine.open("file:///w/a.py", "def f():\n    return 1\n", "python", 1)
    assert parsed == []
    document = syntax.ParsedDocument("x = 1\n", "python")
    assert parsed == [] and document.tree is not None and parsed == [1]
