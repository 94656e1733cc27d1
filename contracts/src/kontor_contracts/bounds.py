"""One set of bounds for amounts and quantities, for every service (ADR 0014).

The bounds are chosen so that *every sum of allowed values is allowed*: whatever a
request may put in, every total derived from it (a line, an order, an invoice, a
refund) stays below :data:`MAX_AMOUNT`, the bound of any amount on the wire, in an
event or in a response. So what goes in can always come out.

The arithmetic (checked at import, below):

- a unit price is at most :data:`MAX_UNIT_PRICE` net, so at most
  ``1,000,000 x 1.19 = 1,190,000`` gross (19 % is the highest German VAT rate);
- a line holds at most :data:`MAX_QUANTITY` pieces: at most ``1,188,810,000`` gross;
- an order (or cart, or invoice) holds at most :data:`MAX_LINES` lines, plus one
  shipping charge priced like a unit: at most ``237,763,190,000`` gross,
  :data:`MAX_DOCUMENT_TOTAL`;
- :data:`MAX_AMOUNT` is ``10^12``, four times that, so refunds, payments and
  corrections of one document (each at most its total) have room as well.

Stock: one article's pieces on hand in one warehouse are at most :data:`MAX_STOCK`,
one receipt or count at most :data:`MAX_STOCK_MOVE`. Both fit a 64-bit integer
(BSON int64) with many orders of magnitude to spare.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

__all__ = [
    "AMOUNT_PLACES",
    "MAX_AMOUNT",
    "MAX_DOCUMENT_TOTAL",
    "MAX_LINES",
    "MAX_QUANTITY",
    "MAX_STOCK",
    "MAX_STOCK_MOVE",
    "MAX_UNIT_PRICE",
    "MAX_VAT_RATE",
    "amount_problem",
]

MAX_UNIT_PRICE: Final = Decimal("1000000")
"""Highest net price of one piece (or one shipping charge), inclusive: 1,000,000.00."""

MAX_VAT_RATE: Final = Decimal("0.19")
"""Highest VAT rate a price can carry (German standard rate, §12 UStG)."""

MAX_QUANTITY: Final = 999
"""Most pieces on one order, cart, return or shipment line, inclusive."""

MAX_LINES: Final = 200
"""Most lines of one order or cart, inclusive."""

AMOUNT_PLACES: Final = 4
"""Most decimal places an amount may be given with."""

MAX_DOCUMENT_TOTAL: Final = MAX_UNIT_PRICE * (1 + MAX_VAT_RATE) * (MAX_QUANTITY * MAX_LINES + 1)
"""The highest gross total one order, cart or invoice can reach within the bounds above."""

MAX_AMOUNT: Final = Decimal("1000000000000")
"""Exclusive bound of the magnitude of any amount: 10^12 (twelve integer digits at most)."""

MAX_STOCK: Final = 1_000_000_000
"""Most pieces of one article on hand (or reserved) in one warehouse, inclusive."""

MAX_STOCK_MOVE: Final = 10_000_000
"""Most pieces of one goods receipt, count or opening stock, inclusive."""

if not MAX_DOCUMENT_TOTAL * 4 <= MAX_AMOUNT:  # pragma: no cover - a wrong edit of the numbers
    raise AssertionError("the bounds no longer keep every derived sum below MAX_AMOUNT")


def amount_problem(
    amount: Decimal, *, maximum: Decimal = MAX_AMOUNT, places: int | None = AMOUNT_PLACES
) -> str | None:
    """Why ``amount`` is outside the bounds, or None.

    ``maximum`` is MAX_AMOUNT (exclusive) unless a tighter, inclusive bound is given
    (:data:`MAX_UNIT_PRICE` for a price); ``places=None`` allows any precision (an
    event may carry an exact, unrounded share).
    """
    if not amount.is_finite():
        return "must be a finite number"
    if maximum >= MAX_AMOUNT:
        if abs(amount) >= MAX_AMOUNT:
            return "must be less than 1,000,000,000,000 in magnitude"
    elif abs(amount) > maximum:
        return f"must be at most {maximum:,}"
    exponent = amount.as_tuple().exponent
    if places is not None and isinstance(exponent, int) and exponent < -places:
        return f"at most {places} decimal places"
    return None
