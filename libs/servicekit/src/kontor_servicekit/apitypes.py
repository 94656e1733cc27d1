"""Request and response field types shared by the services' HTTP APIs (ADR 0014, 0015).

Strict on purpose: FastAPI validates a parsed JSON body in pydantic's *lax* Python
mode, which turns ``true`` into 1, ``"1_000"`` into 1000, ``" 1.00 "`` into a number,
``"١٩.٩٩"`` (Arabic-Indic digits) into 19.99 and ``1`` into the string-typed amount
``"1"``. The types here accept exactly what the OpenAPI says:

- amounts: a JSON *string* of ASCII digits, ``^[0-9]+(\\.[0-9]{1,4})?$``, within the
  bounds of :mod:`kontor_contracts.bounds` (a response model built from a ``Decimal``
  is checked against the same bounds, so what goes in can always come out);
- counts and quantities: JSON integers only (no bool, no float, no string);
- flags: JSON ``true``/``false`` only.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from kontor_contracts.bounds import (
    AMOUNT_PLACES,
    MAX_AMOUNT,
    MAX_LINES,
    MAX_QUANTITY,
    MAX_STOCK_MOVE,
    MAX_UNIT_PRICE,
    MAX_VAT_RATE,
    amount_problem,
)
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    PlainSerializer,
    Strict,
    ValidationError,
    WithJsonSchema,
)

from kontor_servicekit.clock import iso_utc

__all__ = [
    "AMOUNT_JSON_PATTERN",
    "CategoryId",
    "Count",
    "Flag",
    "Instant",
    "LineNo",
    "MoneyAmount",
    "Page",
    "PageOut",
    "Pieces",
    "Quantity",
    "QueryBool",
    "QueryDate",
    "QueryInt",
    "QueryMoment",
    "Sku",
    "StockCount",
    "UnitGrossPrice",
    "UnitPrice",
    "validated",
]

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def _integer_digits(maximum: Decimal) -> int:
    """12 below MAX_AMOUNT (exclusive), 7 up to MAX_UNIT_PRICE (inclusive)."""
    return len(str(int(maximum))) - (1 if maximum >= MAX_AMOUNT else 0)


def _pattern(maximum: Decimal) -> str:
    return rf"^[0-9]{{1,{_integer_digits(maximum)}}}(\.[0-9]{{1,{AMOUNT_PLACES}}})?$"


AMOUNT_JSON_PATTERN = _pattern(MAX_AMOUNT)
"""A non-negative decimal in plain notation, ASCII digits, at most 4 places."""


def _amount_parser(maximum: Decimal) -> Any:
    amount_re = re.compile(_pattern(maximum), re.ASCII)

    def parse(value: Any) -> Decimal:
        if isinstance(value, Decimal):  # built by the service itself (a response model)
            amount = value
        elif isinstance(value, str):
            if not amount_re.fullmatch(value):
                raise ValueError(
                    'a plain decimal string of ASCII digits like "19.99" '
                    "(no sign, spaces, exponent or separators; at most 4 places)"
                )
            amount = Decimal(value)
        else:
            raise ValueError('give amounts as JSON strings, e.g. "19.99"')
        if amount < 0:
            raise ValueError("must not be negative")
        problem = amount_problem(amount, maximum=maximum)
        if problem:
            raise ValueError(problem)
        return amount

    return parse


def _amount_schema(maximum: Decimal, description: str) -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": _pattern(maximum),
        "maxLength": _integer_digits(maximum) + 1 + AMOUNT_PLACES,
        "description": description,
        "examples": ["19.99"],
    }


def _to_str(value: Decimal) -> str:
    return format(value, "f")


MoneyAmount = Annotated[
    Decimal,
    BeforeValidator(_amount_parser(MAX_AMOUNT)),
    PlainSerializer(_to_str, return_type=str, when_used="json"),
    WithJsonSchema(
        _amount_schema(
            MAX_AMOUNT,
            "Decimal string, ASCII digits, at most 4 places, below 1,000,000,000,000",
        )
    ),
]
"""A non-negative amount given and returned as a decimal string (never a number)."""


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


SignedAmount = Annotated[
    Decimal,
    PlainSerializer(_to_str, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
            "description": "Decimal string, negative on documents that reduce an invoice "
            "(cancellations, corrections)",
            "examples": ["-19.99"],
        }
    ),
]
"""An amount in an answer that may be negative (a cancellation's lines), as a string."""

UnitPrice = Annotated[
    Decimal,
    BeforeValidator(_amount_parser(MAX_UNIT_PRICE)),
    PlainSerializer(_to_str, return_type=str, when_used="json"),
    WithJsonSchema(
        _amount_schema(
            MAX_UNIT_PRICE,
            "Net price of one piece: decimal string, ASCII digits, at most 4 places, "
            "at most 1,000,000",
        )
    ),
]
"""A net price per piece (or per shipping charge), at most MAX_UNIT_PRICE."""

MAX_UNIT_GROSS = MAX_UNIT_PRICE * (1 + MAX_VAT_RATE)

UnitGrossPrice = Annotated[
    Decimal,
    BeforeValidator(_amount_parser(MAX_UNIT_GROSS)),
    PlainSerializer(_to_str, return_type=str, when_used="json"),
    WithJsonSchema(
        _amount_schema(
            MAX_UNIT_GROSS,
            "Gross price of one piece as displayed: decimal string, ASCII digits, at most "
            "4 places, at most 1,190,000 (its net at most 1,000,000)",
        )
    ),
]
"""A gross price per piece, at most MAX_UNIT_PRICE plus the highest VAT on it."""

Count = Annotated[int, Strict()]
"""A JSON integer, nothing that could be turned into one; add bounds with Field."""

Quantity = Annotated[int, Strict(), Field(ge=1, le=MAX_QUANTITY)]
"""Pieces on one order, cart, return or shipment line: 1 to 999."""

LineNo = Annotated[int, Strict(), Field(ge=1, le=MAX_LINES)]
"""The number of an order line: 1 to 200."""

Pieces = Annotated[int, Strict(), Field(ge=1, le=MAX_STOCK_MOVE)]
"""Pieces of one goods receipt: 1 to 10,000,000."""

StockCount = Annotated[int, Strict(), Field(ge=0, le=MAX_STOCK_MOVE)]
"""An opening stock or a counted stock: 0 to 10,000,000."""

Flag = Annotated[bool, Strict()]
"""JSON true or false only."""

Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")]
"""An article's SKU as the catalog accepts it (``TEE-RED-M``)."""

CategoryId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9\-]{0,63}$")]
"""A catalog category's id (``t-shirts``)."""


def validated(model: type[M], data: Any) -> tuple[M | None, list[dict[str, Any]]]:
    """``model`` checked against ``data`` the way a request body is, without raising.

    For input that does not arrive as a request body but must meet the same rules (a
    row of a CSV import): the model, or None and pydantic's errors (``loc``, ``msg``).
    """
    try:
        return model.model_validate(data), []
    except ValidationError as invalid:
        return None, [dict(error) for error in invalid.errors()]


# --- Query parameters (issue 9): exactly what the OpenAPI says, ASCII only -------------
#
# A query parameter arrives as a string, and pydantic's lax mode reads ``1_000``,
# `` 1``, ``+1`` and ``1.0`` as integers, ``yes``/``on``/``t``/``1`` as true, a
# datetime string as a date and ``1700000000`` as a moment. These types take only the
# canonical spelling; anything else is a 422 whose field is ``query.<name>``. Bounds
# stay with the route (``Annotated[QueryInt, Query(ge=1, le=200)]``).

_QUERY_INT = re.compile(r"(0|[1-9][0-9]{0,17})")
_QUERY_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_QUERY_MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})"
)


def _query_int(value: Any) -> Any:
    if isinstance(value, str):
        if _QUERY_INT.fullmatch(value) is None:
            raise ValueError("an integer in ASCII digits, no sign, no leading zero, no spaces")
        return int(value)
    return value


def _query_bool(value: Any) -> Any:
    if isinstance(value, str):
        if value not in ("true", "false"):
            raise ValueError("true or false")
        return value == "true"
    return value


def _query_date(value: Any) -> Any:
    if isinstance(value, str):
        if _QUERY_DATE.fullmatch(value) is None:
            raise ValueError("an ISO 8601 date, YYYY-MM-DD")
        return date.fromisoformat(value)
    return value


def _query_moment(value: Any) -> Any:
    if isinstance(value, str):
        if _QUERY_DATE.fullmatch(value) is not None:
            return date.fromisoformat(value)
        if _QUERY_MOMENT.fullmatch(value) is None:
            raise ValueError("an ISO 8601 date (YYYY-MM-DD) or moment with offset (…T09:00:00Z)")
        return datetime.fromisoformat(value)
    return value


QueryInt = Annotated[int, BeforeValidator(_query_int)]
"""A query integer: ASCII digits only (``1``, not ``1_000``, `` 1``, ``+1``, ``1.0``)."""

QueryBool = Annotated[bool, BeforeValidator(_query_bool)]
"""A query flag: exactly ``true`` or ``false``."""

QueryDate = Annotated[
    date, BeforeValidator(_query_date), WithJsonSchema({"type": "string", "format": "date"})
]
"""A query date: ``YYYY-MM-DD`` only (no time, no timestamp)."""

QueryMoment = Annotated[
    AwareDatetime | date,
    BeforeValidator(_query_moment),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "format": "date"},
            ]
        }
    ),
]
"""A query moment: an ISO 8601 date, or date and time with its offset (``Z`` or ±hh:mm)."""

Page = Annotated[QueryInt, Query(ge=1, le=10_000, description="The page, from 1")]
"""The ``page`` of every list (``PageOut``)."""
