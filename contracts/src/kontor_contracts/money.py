"""Money on the wire: ``Decimal`` plus an ISO 4217 currency, never ``float``.

Amounts travel as JSON *strings* ("19.99") so that no JSON parser on the way
turns them into binary floating point. Rounding happens at the edges only
(:func:`quantize`); the types here never round silently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from kontor_contracts.bounds import amount_problem

__all__ = [
    "AMOUNT_PATTERN",
    "MINOR_UNITS",
    "Amount",
    "Currency",
    "Money",
    "VatRate",
    "allocate",
    "decimal_to_str",
    "quantize",
]

AMOUNT_PATTERN = r"^-?\d+(\.\d+)?$"
"""Plain decimal notation: optional minus, digits, optional fraction. No exponent."""

VAT_RATE_PATTERN = r"^(0(\.\d+)?|1(\.0+)?)$"
"""A fraction between 0 and 1 inclusive, e.g. "0.19", "0.07", "0"."""

_AMOUNT_RE = re.compile(AMOUNT_PATTERN, re.ASCII)
"""ASCII digits only: ``\\d`` alone would also match Arabic-Indic and other digits."""

MINOR_UNITS: dict[str, int] = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0}
"""Decimal places of a currency's minor unit (ISO 4217); unknown currencies use 2."""

_DEFAULT_MINOR_UNITS = 2


def _to_decimal(value: Any) -> Decimal:
    """Accept str (plain decimal notation), int and finite Decimal; reject everything else.

    ``float`` is rejected on purpose: 0.1 + 0.2 is not 0.3, and a float that
    reaches a contract is a bug upstream. ``bool`` is an ``int`` subclass in
    Python and rejected too.
    """
    if isinstance(value, float):
        raise ValueError("amounts must be given as str, int or Decimal, never float")
    if isinstance(value, bool):
        raise ValueError("amounts must be given as str, int or Decimal, not bool")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("amount must be a finite number (no NaN or Infinity)")
        return _bounded(value)
    if isinstance(value, int):
        return _bounded(Decimal(value))
    if isinstance(value, str):
        if not _AMOUNT_RE.fullmatch(value):
            raise ValueError(f"amount {value!r} is not a plain decimal string like '19.99' or '-5'")
        try:
            return _bounded(Decimal(value))
        except InvalidOperation as exc:  # pragma: no cover - the pattern excludes this
            raise ValueError(f"amount {value!r} is not a decimal number") from exc
    raise ValueError(f"amount must be str, int or Decimal, got {type(value).__name__}")


def _bounded(amount: Decimal) -> Decimal:
    """Any amount of any event stays below the bound of ADR 0014 (any precision)."""
    problem = amount_problem(amount, places=None)
    if problem:
        raise ValueError(f"amount {problem}")
    return amount


def decimal_to_str(value: Decimal) -> str:
    """Plain notation without exponent: Decimal('1E+2') -> '100', Decimal('1E-7') -> '0.0000001'."""
    return format(value, "f")


Amount = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    PlainSerializer(decimal_to_str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN}),
]
"""A decimal amount. Input: str/int/Decimal (float, NaN, Infinity rejected). JSON: a string."""


def _to_vat_rate(value: Any) -> Decimal:
    rate = _to_decimal(value)
    if rate < 0 or rate > 1:
        raise ValueError(f"VAT rate {rate} must be a fraction between 0 and 1, e.g. 0.19")
    return rate


VatRate = Annotated[
    Decimal,
    BeforeValidator(_to_vat_rate),
    PlainSerializer(decimal_to_str, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": VAT_RATE_PATTERN,
            "description": "VAT rate as a fraction, e.g. '0.19' for 19 %",
        }
    ),
]
"""A VAT rate as a fraction between 0 and 1 ("0.19" = 19 %), serialized as a string."""

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 alphabetic currency code, e.g. 'EUR'."""


class Money(BaseModel):
    """An amount together with its currency."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    amount: Amount
    currency: Currency


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round ``amount`` half-up to the minor unit of ``currency`` (EUR: cents, JPY: yen).

    Use at the edges (a line total, a VAT sum on an invoice), never in between.
    """
    places = MINOR_UNITS.get(currency.upper(), _DEFAULT_MINOR_UNITS)
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def allocate(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Split ``total`` (already in minor units of ``currency``) in proportion to
    ``weights``, so that the parts are in minor units and add up to ``total`` exactly.

    Largest remainder: each part is first rounded down to the minor unit, then the
    minor units still missing go to the parts with the largest remainders (the
    earlier part first on a tie). Weights of zero get nothing unless all are zero,
    then the parts are equal as far as the minor unit allows. A negative ``total``
    is split as its absolute value and negated.
    """
    if not weights:
        raise ValueError("nothing to allocate to")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    if total < 0:
        return [-part for part in allocate(-total, weights, currency)]
    unit = Decimal(1).scaleb(-MINOR_UNITS.get(currency.upper(), _DEFAULT_MINOR_UNITS))
    if quantize(total, currency) != total:
        raise ValueError(f"{total} is not in minor units of {currency}")
    units = int(total / unit)
    basis = list(weights) if sum(weights) > 0 else [Decimal(1)] * len(weights)
    whole = sum(basis)
    shares = [Decimal(units) * w / whole for w in basis]
    floors = [int(share) for share in shares]
    missing = units - sum(floors)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in by_remainder[:missing]:
        floors[i] += 1
    return [Decimal(n) * unit for n in floors]
