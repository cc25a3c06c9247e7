"""Prompt building: FIM templates per model family and the context budget."""
