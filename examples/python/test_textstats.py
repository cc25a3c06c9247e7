from textstats import greet, is_palindrome, mean, median, word_counts


def test_mean() -> None:
    assert mean([1.0, 2.0, 3.0, 6.0]) == 3.0


def test_median() -> None:
    assert median([5.0, 1.0, 3.0]) == 3.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5


def test_word_counts() -> None:
    assert word_counts("The cat and the hat") == {"the": 2, "cat": 1, "and": 1, "hat": 1}


def test_is_palindrome() -> None:
    assert is_palindrome("A man, a plan, a canal: Panama")
    assert not is_palindrome("copilot")


def test_greet() -> None:
    assert greet("Ada") == "你好 Ada 👋"
