"""Support's business rules: pure (no framework, broker or database)."""
