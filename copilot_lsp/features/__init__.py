"""User-facing features, each composed from the pure stages and a backend."""
