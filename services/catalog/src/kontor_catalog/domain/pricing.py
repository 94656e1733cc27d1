"""Price rules of the Preisangabenverordnung (PAngV), pure.

- §11 PAngV: a price reduction may only be announced against the lowest total price
  the merchant asked in the 30 days before the reduction. The strike-through price
  is therefore not chosen by anyone: it *is* that lowest price, computed from the
  product's own price history, and shown only when the current price is below it.
- Prices are entered net (B2B, ``{"price": {"net": ...}}``) or gross (B2C, the usual
  case, ``{"price": {"gross": ...}}``, §3 PAngV: the Gesamtpreis). A gross price is
  kept as a net price of four decimal places (:func:`net_from_gross`) whose gross
  (:func:`gross_price`) is exactly the gross entered, so the rest of the catalog and
  every event keep working with the net price; ``price_basis`` says which was entered.
- §4 PAngV: goods sold by weight, volume or length show a base price (Grundpreis)
  per 1 kg, 1 l or 1 m next to the total price.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

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

#: How a price was entered: ``net`` (B2B) or ``gross`` (B2C, the displayed price).
PRICE_BASES = ("net", "gross")

#: Places of the net price kept for a gross-entered price: enough that the net's
#: rounded gross is the gross entered (the error is at most 0.00005 x 1.19 < 0.005).
NET_PLACES = Decimal("0.0001")

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


def net_from_gross(gross: Decimal, vat_class: str) -> Decimal:
    """The net price (four places, half up) whose gross is ``gross`` again.

    ``gross_price(net_from_gross(g, c), c, currency) == g`` for every ``g`` in minor
    units: the net is within 0.00005 of ``g / (1 + rate)``, so its gross is within
    0.00006 of ``g`` and rounds back to it.
    """
    check_price(gross, vat_class, field="gross")
    return (gross / (1 + VAT_RATES[vat_class])).quantize(NET_PLACES, rounding=ROUND_HALF_UP)


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


def check_price(amount: Decimal, vat_class: str, *, field: str = "net") -> None:
    if vat_class not in VAT_RATES:
        raise ProductError("vat_class", f"one of {', '.join(VAT_RATES)}")
    if amount < 0:
        raise ProductError(field, "must not be negative")
    # The bound is on the net (ADR 0014); a gross may carry at most its class's VAT on it.
    limit = MAX_UNIT_PRICE if field == "net" else MAX_UNIT_PRICE * (1 + VAT_RATES[vat_class])
    if amount > limit:
        raise ProductError(field, f"at most {limit:,} per piece (ADR 0014)")
