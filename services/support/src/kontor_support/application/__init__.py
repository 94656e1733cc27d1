"""Support's use cases: commands in, events out; the only callers of ``domain/``."""
