"""What stands for personal data once sealed or erased (issue 13, ADR 0036): the two
placeholder forms and the test for them. Standard library only, so a service's pure
domain may ask whether a value it folds is a person's or an erased one's (ADR 0128)."""

from __future__ import annotations

from typing import Any

__all__ = ["PLACEHOLDER_DOMAIN", "PLACEHOLDER_TEXT", "is_placeholder"]

PLACEHOLDER_TEXT = "—"
"""What stands for a required personal text once sealed or erased (valid: not empty)."""

PLACEHOLDER_DOMAIN = "pseudonym.invalid"
"""The domain of a pseudonymous e-mail (RFC 2606 ``.invalid``: it never delivers)."""


def is_placeholder(value: Any) -> bool:
    """A value that is a placeholder already (an erased record's, a sealed payload's)."""
    return value == PLACEHOLDER_TEXT or (
        isinstance(value, str) and value.endswith(f"@{PLACEHOLDER_DOMAIN}")
    )
