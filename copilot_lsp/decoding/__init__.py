"""Decoding shared by the local backends: logits warpers and sampling, stop criteria,
candidate ranking. Pure numpy; no engine is imported here."""
