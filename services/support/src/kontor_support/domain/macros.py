"""Text modules (macros) in German and English with placeholders, and the rule that a
reply with a placeholder left unfilled is never sent.

A placeholder is ``{{name}}`` (``{{customer_name}}``, ``{{order_number}}``,
``{{tracking_link}}``, ``{{return_instructions}}``, ``{{withdrawal_deadline}}``).
:func:`fill` replaces those it has values for; :func:`refuse_unfilled` refuses a
text that still holds one (422 naming it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kontor_servicekit.domain_errors import FieldProblem, Invalid

__all__ = ["MACROS", "PLACEHOLDERS", "Macro", "fill", "placeholders_in", "refuse_unfilled"]

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")

PLACEHOLDERS = (
    "customer_name",
    "order_number",
    "tracking_link",
    "return_instructions",
    "withdrawal_deadline",
)


@dataclass(frozen=True)
class Macro:
    id: str
    language: str  # de, en
    title: str
    body: str


MACROS: tuple[Macro, ...] = (
    Macro(
        "where-is-my-parcel",
        "de",
        "Wo ist mein Paket?",
        "Hallo {{customer_name}},\n\nIhre Bestellung {{order_number}} ist unterwegs. "
        "Die Sendung verfolgen Sie hier: {{tracking_link}}\n\nViele Grüße",
    ),
    Macro(
        "where-is-my-parcel",
        "en",
        "Where is my parcel?",
        "Hello {{customer_name}},\n\nyour order {{order_number}} is on its way. "
        "You can track it here: {{tracking_link}}\n\nKind regards",
    ),
    Macro(
        "return",
        "de",
        "Rücksendung",
        "Hallo {{customer_name}},\n\nso senden Sie Bestellung {{order_number}} zurück: "
        "{{return_instructions}}\nIhre Widerrufsfrist endet am {{withdrawal_deadline}}."
        "\n\nViele Grüße",
    ),
    Macro(
        "return",
        "en",
        "Returns",
        "Hello {{customer_name}},\n\nthis is how to return order {{order_number}}: "
        "{{return_instructions}}\nYour withdrawal period ends on {{withdrawal_deadline}}."
        "\n\nKind regards",
    ),
)


def placeholders_in(text: str) -> list[str]:
    """The placeholders ``text`` still holds, each once, in order."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(text)))


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with every placeholder that has a (non-empty) value replaced."""

    def one(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return value if value else match.group(0)

    return _PLACEHOLDER.sub(one, text)


def refuse_unfilled(text: str, *, field: Sequence[str | int]) -> None:
    """Refuse ``text`` if a placeholder is left in it (one problem per placeholder)."""
    left = placeholders_in(text)
    if left:
        raise Invalid(
            f"placeholder {{{{{left[0]}}}}} is not filled",
            problems=[
                FieldProblem(
                    tuple(field), f"placeholder {{{{{name}}}}} is not filled", "placeholder"
                )
                for name in left
            ],
        )
