"""Event payload models, one module per owning service (``events.<service>``).

Shared sub-models (``Address``, ``Customer``, ...) live in ``events.common``.
"""
