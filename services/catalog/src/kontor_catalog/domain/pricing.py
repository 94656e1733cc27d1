"""Price rules of the Preisangabenverordnung (PAngV), pure.

- §11 PAngV: a price reduction may only be announced against the lowest total price
  the merchant asked in the 30 days before the reduction. The strike-through price
  is therefore not chosen by anyone: it *is* that lowest price, computed from the
  product's own price history, and shown only when the current price is below it.
- §4 PAngV: goods sold by weight, volume or length show a base price (Grundpreis)
  per 1 kg, 1 l or 1 m next to the total price.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from kontor_contracts.bounds import MAX_UNIT_PRICE
from kontor_contracts.money import quantize

from kontor_catalog.domain.errors import ProductError

#: German VAT rates by class (§12 UStG): standard 19 %, reduced 7 %, zero 0 %.
VAT_RATES: dict[str, Decimal] = {
    "standard": Decimal("0.19"),
    "reduced": Decimal("0.07"),
    "zero": Decimal("0"),
}

REFERENCE_WINDOW = timedelta(days=30)

#: content unit -> (base unit, factor to the base unit)
UNITS: dict[str, tuple[str, Decimal]] = {
    "kg": ("kg", Decimal(1)),
    "g": ("kg", Decimal("0.001")),
    "l": ("l", Decimal(1)),
    "ml": ("l", Decimal("0.001")),
    "m": ("m", Decimal(1)),
    "cm": ("m", Decimal("0.01")),
    "m2": ("m2", Decimal(1)),
    "m3": ("m3", Decimal(1)),
}


def gross_price(net: Decimal, vat_class: str, currency: str) -> Decimal:
    """Gross unit price: net plus VAT, rounded half up to the currency's minor unit."""
    return quantize(net * (1 + VAT_RATES[vat_class]), currency)


@dataclass(frozen=True)
class PricePoint:
    """A price that applied from ``effective_at`` until the next point."""

    effective_at: datetime
    net: Decimal
    vat_class: str
    currency: str

    @property
    def gross(self) -> Decimal:
        return gross_price(self.net, self.vat_class, self.currency)


@dataclass(frozen=True)
class ReferencePrice:
    lowest_30_days: Decimal | None
    """Lowest gross price in the 30 days before the current price took effect."""
    strike_through: Decimal | None
    """The price that may be struck through: the 30-day lowest, if the current is below."""


def reference_price(history: Sequence[PricePoint]) -> ReferencePrice:
    """The §11 PAngV reference of the newest point in ``history`` (any order)."""
    if not history:
        return ReferencePrice(None, None)
    points = sorted(history, key=lambda p: p.effective_at)
    current = points[-1]
    window_start = current.effective_at - REFERENCE_WINDOW
    earlier = points[:-1]
    in_window = [
        point.gross
        for point, following in zip(earlier, points[1:], strict=True)
        # in effect at some moment of [window_start, current.effective_at)
        if following.effective_at > window_start and point.effective_at < current.effective_at
    ]
    if not in_window:
        return ReferencePrice(None, None)
    lowest = min(in_window)
    return ReferencePrice(lowest, lowest if current.gross < lowest else None)


@dataclass(frozen=True)
class BasePrice:
    amount: Decimal
    per: str
    """e.g. '1 kg'"""


#: The smallest content in base units (0.01 g, 0.01 ml, 0.001 cm): the base price of a
#: piece at the highest price stays within the bounds of ADR 0014 (1.19e6 / 1e-5 < 1e12).
MIN_BASE_CONTENT = Decimal("0.00001")


def check_content(quantity: Decimal, unit: str) -> None:
    if unit not in UNITS:
        raise ProductError("content.unit", f"one of {', '.join(UNITS)}")
    if quantity <= 0:
        raise ProductError("content.quantity", "must be positive")
    factor = UNITS[unit][1]
    if quantity * factor < MIN_BASE_CONTENT:
        raise ProductError("content.quantity", f"at least {MIN_BASE_CONTENT / factor:f} {unit}")


def base_price(gross: Decimal, quantity: Decimal, unit: str, currency: str) -> BasePrice:
    """Gross price per 1 kg / 1 l / 1 m / 1 m² / 1 m³, rounded half up to the
    currency's minor unit."""
    check_content(quantity, unit)
    base_unit, factor = UNITS[unit]
    amount = quantize(gross / (quantity * factor), currency)
    return BasePrice(amount=amount, per=f"1 {base_unit}")


def check_price(net: Decimal, vat_class: str) -> None:
    if vat_class not in VAT_RATES:
        raise ProductError("vat_class", f"one of {', '.join(VAT_RATES)}")
    if net < 0:
        raise ProductError("net", "must not be negative")
    if net > MAX_UNIT_PRICE:
        raise ProductError("net", f"at most {MAX_UNIT_PRICE:,} per piece (ADR 0014)")
