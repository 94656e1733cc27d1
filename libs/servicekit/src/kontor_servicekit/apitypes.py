"""Request and response field types shared by the services' HTTP APIs."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

PLAIN_DECIMAL = re.compile(r"^\d{1,9}(\.\d+)?$")


def _parse_amount(value: Any) -> Decimal:
    if isinstance(value, bool | float):
        raise ValueError('give amounts as decimal strings, e.g. "19.99"')
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        if not PLAIN_DECIMAL.match(value.strip()):
            raise ValueError('a plain decimal number like "19.99" (no sign, no exponent)')
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError("not a decimal number") from None
    else:
        raise ValueError('give amounts as decimal strings, e.g. "19.99"')
    if not amount.is_finite():
        raise ValueError("must be a finite number")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        raise ValueError("at most 4 decimal places")
    if amount < 0:
        raise ValueError("must not be negative")
    if amount >= Decimal("1000000000"):
        raise ValueError("must be less than 1,000,000,000")
    return amount


MoneyAmount = Annotated[
    Decimal,
    BeforeValidator(_parse_amount),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": r"^\d+(\.\d{1,4})?$", "examples": ["19.99"]},
    ),
]
"""A non-negative amount given and returned as a decimal string (never a float)."""
