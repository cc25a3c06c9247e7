"""Small statistics over text, used by the copilot-lsp demo and end-to-end tests."""

from collections import Counter


def mean(values: list[float]) -> float:
    """Arithmetic mean of a non-empty list."""
    if not values:
        raise ValueError("mean of an empty list")
    return sum(values) / len(values)


def median(values: list[float]) -> float:
    """Middle value (mean of the two middle values for an even count)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2 == 1:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def word_counts(text: str) -> Counter[str]:
    """How often each lower-cased word occurs."""
    return Counter(word.lower() for word in text.split())


def is_palindrome(text: str) -> bool:
    """True when the letters and digits of text read the same backwards."""
    cleaned = [char.lower() for char in text if char.isalnum()]
    return cleaned == cleaned[::-1]


def greet(name: str) -> str:
    """A greeting in three languages: 你好, こんにちは, hello 👋."""
    return f"你好 {name} 👋"
