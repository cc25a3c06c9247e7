"""Benchmarks that print figures (no timed tests: the test machines are shared)."""
