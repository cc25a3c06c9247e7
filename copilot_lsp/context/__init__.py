"""Cross-file context: what the model sees besides the text around the cursor.

:class:`~copilot_lsp.context.engine.ContextEngine` keeps the open documents (parsed
incrementally), the workspace index and the recent edits, asks its snippet providers
(:mod:`~copilot_lsp.context.snippets`) for candidates, and ranks, deduplicates and fits them
to a token budget in a stable order.
"""
