"""Golden tests for the pure post-processing stages and the completion kind."""

import pytest

from copilot_lsp.postprocess import (
    after_cache,
    answer_is_complete,
    balance_brackets,
    block_end,
    clean_completion,
    cut_at_suffix_repeat,
    drop_closer_overlap,
    drop_repetition,
    ends_in_loop,
    indent_unit,
    reindent,
)
from copilot_lsp.prompt.fim import QWEN25_CODER
from copilot_lsp.syntax import CompletionKind, completion_kind

SINGLE, MULTI = CompletionKind.SINGLE_LINE, CompletionKind.MULTI_LINE


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        ("    total = ", "", MULTI),
        ("    ", "", MULTI),
        ("    print(", ")", SINGLE),
        ("    x = foo(", "a, b)", SINGLE),
        ("    reso", "lve()", CompletionKind.NONE),
        ("", "", MULTI),
    ],
)
def test_completion_kind(before: str, after: str, kind: CompletionKind) -> None:
    assert completion_kind(before, after) is kind


def test_single_line_keeps_the_first_line_only() -> None:
    raw = "len(values)\n    print('extra')"
    assert clean_completion(raw, SINGLE, "    return sum(values) / ", ")", ")") == "len(values)"


def test_markers_are_cut() -> None:
    raw = "x + 1<|endoftext|>garbage"
    assert clean_completion(raw, MULTI, "y = ", "", "", QWEN25_CODER.stop_texts) == "x + 1"


def test_auto_closed_bracket_is_not_duplicated() -> None:
    assert drop_closer_overlap("total)", ")") == "total"
    assert drop_closer_overlap('name")', '")') == "name"
    # A balanced call keeps the editor's bracket after it.
    assert drop_closer_overlap("g(x)", ")") == "g(x)"
    # The answer needs the editor's closer, or does not close it: kept as it is.
    assert drop_closer_overlap('"a")', ")") == '"a"'
    assert drop_closer_overlap("x) + g(y", ")") == "x) + g(y"  # the editor's ) closes g(
    assert drop_closer_overlap('a" + "b', '"') == 'a" + "b'  # its " ends the second string
    assert drop_closer_overlap("x]:", ")") == "x]:"  # not the editor's bracket
    assert drop_closer_overlap("x):\n    pass", ")") == "x):\n    pass"  # one-line only


@pytest.mark.parametrize(
    ("text", "line_after", "kept"),
    [
        ("path):", ")", "path"),  # os.listdir(|) -> os.listdir(path), then the user types :
        ("1, 2]:", "]", "1, 2"),  # [|]
        ('"a"]:', "]", '"a"'),
        ("g(x)):", ")", "g(x)"),  # only the closer that closes nothing in the answer
        ("x), y):", "))", "x"),  # f(g(|))
        ("x) + 1", ")", "x"),
        ('a", b)', '")', "a"),  # print("|") with print("a", b)
    ],
)
def test_answer_that_closes_the_auto_closed_bracket_and_goes_on_is_cut(
    text: str, line_after: str, kept: str
) -> None:
    assert drop_closer_overlap(text, line_after) == kept


@pytest.mark.parametrize(
    ("outer", "suffix", "kept"),
    [
        # foo( is left open after the cursor: with the answer in, the editor's ) closes it.
        ("result = foo(", ")\n\nz = 1\n", "x), y"),
        # The code after the cursor closes foo( itself: the editor's ) would be one too many.
        ("result = foo(", ")\n)\n", "x"),
        # [ is not what the editor's ) could close.
        ("items = [", ")\n\nz = 1\n", "x"),
    ],
)
def test_answer_that_goes_on_inside_a_bracket_opened_on_an_earlier_line(
    outer: str, suffix: str, kept: str
) -> None:
    prefix = outer + "\n    bar("
    assert clean_completion("x), y", SINGLE, "    bar(", ")", suffix, prefix=prefix) == kept
    assert after_cache("x), y", ")", prefix, suffix) == kept


def test_fresh_single_line_answer_keeps_no_duplicated_closer() -> None:
    line_before = "    for name in os.listdir("
    assert clean_completion("path):\n        print(name)", SINGLE, line_before, ")", ")\n") == (
        "path"
    )
    assert after_cache("):", ")") == ""


def test_block_ends_at_dedent_below_the_code_after_the_cursor() -> None:
    raw = "\n        return x\n    return y\ndef other():"
    suffix = "\n        log(x)\n"
    assert block_end(raw, "        if x:", suffix) is not None
    assert clean_completion(raw, MULTI, "    if x:", "", suffix) == "\n        return x"


def test_by_default_the_completion_stays_in_the_cursor_block() -> None:
    raw = "i -= 1\n    return res\n"
    suffix = "\n    return res.lower()\n"
    assert clean_completion(raw, MULTI, "        ", "", suffix) == "i -= 1"
    assert clean_completion("return s\n\n    return None", MULTI, "        ", "", "\n") == (
        "return s"
    )


def test_dedent_to_suffix_finishes_the_enclosing_definition() -> None:
    raw = "\n        return x\n    return y\ndef other():\n    pass"
    end = block_end(raw, "    if x:", "", dedent_to_suffix=True)
    assert end is not None and raw[:end].rstrip() == "\n        return x\n    return y"


def test_dedent_to_suffix_stops_below_the_code_after_the_cursor() -> None:
    raw = "for b in xs:\n            n += 1\n    total = n\ndef g():"
    suffix = "\n    return total\n"
    prefix = "def f(xs):\n    n = 0\n    for a in xs:\n        "
    end = block_end(raw, "        ", suffix, prefix, dedent_to_suffix=True)
    assert (
        end is not None and raw[:end].rstrip() == "for b in xs:\n            n += 1\n    total = n"
    )


def test_dedent_to_a_new_definition_ends_the_completion() -> None:
    raw = "return self.x\n\n    def other(self):\n        pass"
    suffix = "\n\n    def next_one(self):\n        pass\n"
    prefix = "class A:\n    def get(self):\n        "
    end = block_end(raw, "        ", suffix, prefix, dedent_to_suffix=True)
    assert end is not None and raw[:end].rstrip() == "return self.x"


def test_a_call_left_open_on_the_cursor_line_ends_with_the_line_that_closes_it() -> None:
    prefix = "def f(ctx):\n    value = ctx.lookup(name,\n"
    line_before = "    value = ctx.lookup(name,"
    raw = " default=None,\n        strict=True)\n    return value\n"
    assert clean_completion(raw, MULTI, line_before, "", "\n", prefix=prefix) == (
        " default=None,\n        strict=True)"
    )
    assert clean_completion(" None)\n    x = 1", MULTI, line_before, "", "\n", prefix=prefix) == (
        " None)"
    )
    # The cursor right after the opening bracket (an open bracket is no block opener).
    opened = "    value = ctx.lookup("
    assert clean_completion("name)\n    x = 1", MULTI, opened, "", "\n", prefix=opened) == "name)"
    # A closing line that opens a block goes on into the block.
    block = "    if ctx.has(name,"
    raw = " strict=True):\n        a = 1\n        return a"
    assert clean_completion(raw, MULTI, block, "", "\n", prefix=block) == raw


def test_an_unfinished_statement_ends_with_its_line_next_lines_stay_possible() -> None:
    prefix = "class Log:\n    def render(self):\n        output = Table."
    raw = "grid(padding=(0, 1))\n        if self.show_time:\n            output.add_column()"
    assert clean_completion(raw, MULTI, "        output = Table.", "", "\n", prefix=prefix) == (
        "grid(padding=(0, 1))"
    )
    # After a finished line the answer may be the next lines (it starts with a newline).
    done = "        output = Table.grid()"
    raw = "\n        output.add_column()\n        return output"
    assert clean_completion(raw, MULTI, done, "", "\n", prefix=done) == raw
    # A backslash continues the statement on the next line.
    raw = "a + \\\n            b\n        return total"
    end = block_end(raw, "        total = ", "\n")
    assert end is not None and raw[:end].rstrip() == "a + \\\n            b"


def test_a_closer_of_a_bracket_the_prefix_opened_is_kept() -> None:
    prefix = "def f():\n    table = {\n        'a': 1,\n        "
    raw = "'b': 2,\n    }\n    return table\n\n\ndef g():\n    pass"
    assert clean_completion(raw, MULTI, "        ", "", "\n", prefix=prefix) == (
        "'b': 2,\n    }\n    return table"
    )


def test_brackets_in_strings_and_docstrings_do_not_count() -> None:
    prefix = 'def f(x):\n    """Returns (x."""\n    s = "(["\n    '
    raw = "y = x\n    return y\ndef g():\n    pass"
    assert clean_completion(raw, MULTI, "    ", "", "", prefix=prefix) == "y = x\n    return y"
    # Were the brackets in the strings counted, `def g()` would be inside them.


def test_top_level_completion_stops_after_one_definition() -> None:
    raw = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b"
    assert clean_completion(raw, MULTI, "", "", "") == "def add(a, b):\n    return a + b"


def test_repeat_of_the_suffix_is_cut() -> None:
    raw = "\n    total = sum(xs)\n    return total"
    suffix = "\n    return total\n"
    assert cut_at_suffix_repeat(raw, suffix) == "\n    total = sum(xs)"


def test_one_line_equal_to_the_next_is_not_a_repeat_when_the_rest_differs() -> None:
    raw = "if c == '(':\n        out.append(c)\n    elif c == ')':\n        depth -= 1"
    suffix = "\n        out.append(c)\n        if depth == 0:\n"
    assert cut_at_suffix_repeat(raw, suffix) == raw
    assert (
        cut_at_suffix_repeat(raw + "\n        out.append(c)\n        if depth == 0:", suffix) == raw
    )


def test_a_repeat_of_the_suffix_with_a_small_change_is_cut() -> None:
    head = "opening = []\n    for i in range(n):\n        if s[i] == '[':"
    tail = (
        "\n            opening.append(i)\n        elif s[i] == ']':\n            closing.append(i)"
    )
    suffix = "\n            opening.append(i)\n        else:\n            closing.append(i)\n"
    assert cut_at_suffix_repeat(head + tail, suffix) == head


def test_empty_and_echo_answers_are_dropped() -> None:
    assert clean_completion("   \n  ", MULTI, "x = ", "", "") == ""
    assert clean_completion(")", SINGLE, "f(", ")", ")") == ""


def test_trailing_whitespace_is_trimmed() -> None:
    assert clean_completion("a = 1   \nb = 2  \n", MULTI, "", "", "") == "a = 1\nb = 2"


def test_stop_check_ends_single_lines_at_newline_and_blocks_at_dedent() -> None:
    assert answer_is_complete(SINGLE, "x = f(")("a, b\n")
    assert not answer_is_complete(SINGLE, "x = f(")("a, b")
    # A call spread over lines is one statement: go on until its bracket closes.
    assert not answer_is_complete(SINGLE, "x = ")("f(a,\n")
    assert answer_is_complete(SINGLE, "x = ")("f(a,\n  b)\n")
    check = answer_is_complete(MULTI, "    for x in xs:", "\n        print(x)\n")
    assert not check("\n        y = x")
    assert check("\n        y = x\n    return")


def test_stop_check_goes_on_past_a_closer_of_an_inner_block() -> None:
    """An empty Go body: the `}` of a loop inside it is no repeat of the body's `}`."""
    prefix = "func Count(text string) int {\n\t"
    check = answer_is_complete(MULTI, "\t", "\n}\n", prefix)
    assert not check("n := 0\n\tfor range text {\n\t\tn++\n\t}\n")
    assert check("n := 0\n\tfor range text {\n\t\tn++\n\t}\n\treturn n\n}\n")


def test_stop_check_ends_when_the_suffix_is_repeated() -> None:
    suffix = "\n    b = 2\n    return b\n"
    check = answer_is_complete(MULTI, "    ", suffix)
    assert not check("a = 1\n    b = 2\n")
    assert check("a = 1\n    b = 2\n    return b\n")


def test_single_line_answer_spans_lines_while_its_call_is_open() -> None:
    raw = "f(a,\n      b)\nmore()"
    assert clean_completion(raw, SINGLE, "x = ", "  # note", "  # note\n") == "f(a,\n      b)"


def test_space_before_code_right_of_the_cursor_is_kept() -> None:
    assert clean_completion(" if ", SINGLE, "    y = a", "x else b", "x else b\n") == " if "
    assert clean_completion("x  ", SINGLE, "f(", ")", ")\n") == "x"


@pytest.mark.parametrize(
    ("raw", "prefix", "expected"),
    [
        # An excess closer: the model closes code that is not there.
        ("x + 1)\n", "y = ", "x + 1"),
        # Closing what the prefix opened is fine.
        ("x + 1)", "y = f(", "x + 1)"),
        ("a]", "y = f(", "a"),
        # Brackets inside strings do not count, also when the string began in the prefix.
        ("')' + s", "y = ", "')' + s"),
        ('name}!"', '    return f"Hi {', 'name}!"'),
        ('x}")', 'print(f"{', 'x}")'),
    ],
)
def test_balance_brackets(raw: str, prefix: str, expected: str) -> None:
    assert balance_brackets(raw, prefix) == expected


@pytest.mark.parametrize(
    ("text", "unit", "line_before", "expected"),
    [
        # Tabs in a file indented with spaces.
        ("if x:\n\t\ty()", "    ", "    ", "if x:\n        y()"),
        # Spaces in a file indented with tabs.
        ("if x:\n        y()", "\t", "\t", "if x:\n\t\ty()"),
        # Two-space steps in a four-space file, relative to the cursor's indentation.
        ("if x:\n      y()\n    z()", "    ", "    ", "if x:\n        y()\n    z()"),
        # Already consistent: unchanged (a step of 8 is two levels of 4).
        ("if x:\n        y()", "    ", "    ", "if x:\n        y()"),
        ("return s\n\n    return None", "    ", "            ", "return s\n\n    return None"),
        ("if x:\n        y()", None, "    ", "if x:\n        y()"),
        # At the start of an empty line the answer brings its own first indentation: the
        # steps are counted from there (HumanEval/80's body, 2-space steps from column 4).
        (
            "    i = 1\n    while i < n:\n      if a[i]:\n        k = i\n      i += 1\n"
            "    return k",
            "    ",
            "",
            "    i = 1\n    while i < n:\n        if a[i]:\n            k = i\n        i += 1\n"
            "    return k",
        ),
    ],
)
def test_reindent(text: str, unit: str | None, line_before: str, expected: str) -> None:
    assert reindent(text, unit, line_before) == expected


def test_indent_unit() -> None:
    assert indent_unit("def f():\n  if x:\n    y\n  z\n") == "  "
    assert indent_unit("def f():\n\tif x:\n\t\ty\n") == "\t"
    assert indent_unit("x = 1\n") is None
    # Mixed steps: nothing to enforce.
    assert indent_unit("a:\n  b:\n      c\n  d:\n      e\n") is None


def test_repetitive_lines_are_cut_to_one() -> None:
    raw = "x = 1\nprint(x)\nprint(x)\nprint(x)\nprint(x)"
    assert drop_repetition(raw) == "x = 1\nprint(x)"
    block = "a()\nb()\n" * 4
    assert drop_repetition(block.rstrip("\n")) == "a()\nb()"
    assert drop_repetition("a\nb\na\nc") == "a\nb\na\nc"


def test_answer_identical_to_the_code_after_the_cursor_is_dropped() -> None:
    suffix = "\n    return total\n    # end\n"
    assert clean_completion("\n    return total", MULTI, "    x = 1", "", suffix) == ""


def test_after_cache_drops_what_the_editor_auto_closed() -> None:
    assert after_cache('name")', '")') == "name"
    assert after_cache("   ", "") == ""
    assert after_cache("x", "") == "x"


def test_braces_the_suffix_already_closes_are_not_repeated() -> None:
    prefix = "function total(items) {\n  let sum = 0;\n  "
    suffix = "\n}\n"
    raw = "for (const item of items) {\n    sum += item;\n  }\n  return sum;\n})\n\nfoo();"
    assert clean_completion(raw, MULTI, "  ", "", suffix, prefix=prefix) == (
        "for (const item of items) {\n    sum += item;\n  }\n  return sum;"
    )


LOOPING = "    data = re.sub(r'\\x1b\\[" + "\\d+;?" * 16


@pytest.mark.parametrize(
    "line",
    [
        "# " + "=" * 70,  # a separator is one character over and over
        "x = [" + ", ".join(str(n) for n in range(40)) + "]",
        "ab" * 31,  # repeats, but short
        "    assert median([" + "7.0, " * 12 + "7.0]) == 7.0",  # test data repeats itself
        "    self.a, self.b, self.c = a, b, c",
    ],
)
def test_code_that_repeats_itself_a_little_is_no_loop(line: str) -> None:
    assert not ends_in_loop(line)
    assert not answer_is_complete(SINGLE, "x = ")(line)


def test_a_generation_stuck_in_a_loop_on_one_line_stops() -> None:
    # The token limit (128) ended it before: 7 s with the 0.5B model on 2 cores; now ~60.
    assert ends_in_loop("first line\n" + LOOPING)
    for kind in (SINGLE, MULTI):
        assert answer_is_complete(kind, "    data = ")(LOOPING)
        assert not answer_is_complete(kind, "    data = ")(LOOPING[:-8])
