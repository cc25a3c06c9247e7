"""Context for the prompt beyond the local window (snippets from other files)."""
