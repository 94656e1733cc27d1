"""Request and response field types shared by the services' HTTP APIs."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

from kontor_servicekit.clock import iso_utc

T = TypeVar("T")

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


Instant = Annotated[
    AwareDatetime,
    PlainSerializer(iso_utc, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "examples": ["2026-12-01T09:30:00Z"]},
    ),
]
"""A moment in an answer, always written by :func:`~kontor_servicekit.clock.iso_utc`: UTC
with ``Z`` (``2026-12-01T09:30:00Z``),
whatever zone it was computed in (a withdrawal deadline is a Berlin end of day: it is
written as the same moment in UTC). Every time field of a response model is one."""


class PageOut(BaseModel, Generic[T]):
    """The one shape of a list answer: a page of ``items`` and where it is.

    Services subclass it per item type (``class ReturnPage(PageOut[ReturnOut])``) so the
    OpenAPI schema keeps a readable name.
    """

    items: list[T]
    page: int = Field(ge=1)
    page_size: int = Field(ge=1)
    total: int = Field(ge=0, description="Matches in all pages")
