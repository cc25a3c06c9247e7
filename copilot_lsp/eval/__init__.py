"""Evaluation harness: benchmarks run through the product's own completion pipeline.

``copilot-lsp eval`` loads tasks (:mod:`task`; from :mod:`datasets`, :mod:`crossfile`), asks
:func:`copilot_lsp.features.inline_completion.complete` for each completion, runs the tests in
a sandbox (:mod:`sandbox`) or scores against the reference, and reports pass@k, exact match
and edit similarity (:mod:`runner`, :mod:`report`, :mod:`plots`).
"""
