"""How an order's lines and shipping are priced: gross for consumers, net for
businesses, VAT per rate (ADR 0017). Pure.

- **Consumers (B2C, ``gross``).** The shop displays gross prices (PAngV); a line's
  gross is quantity x displayed unit gross, less its share of a discount. VAT is
  derived once per rate from the gross sum of that rate's lines
  (``gross x rate / (1 + rate)``, half up) and spread over the lines in proportion
  to their gross (largest remainder); a line's net is its gross minus its VAT.
- **Businesses (B2B, ``net``).** A line's net is quantity x unit net, rounded, less
  its share of a discount; VAT is computed once per rate from the net sum (as
  EN 16931 BR-CO-17 recomputes it) and spread over the lines in proportion to their
  net; gross is net plus VAT.
- **Intra-community supply** (a business buyer with a VAT id of another member
  state, goods leaving Germany, §4 Nr. 1b, §6a UStG): net, every rate 0.
- **Shipping** follows the VAT of the goods (an ancillary service): its net is split
  over the goods' rates in proportion to the goods' net per rate
  (:func:`kontor_servicekit.shipping_rates.split_by_goods`), each part taxed at its rate.

Either way the lines of a rate add up to that rate's net, VAT and gross, so an
invoice that sums the lines per rate shows the order's VAT breakdown exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from kontor_contracts.money import allocate, quantize

__all__ = [
    "BASES",
    "GoodsLine",
    "LineAmounts",
    "price_goods",
    "unit_gross_of",
]

#: ``gross``: consumer prices (B2C); ``net``: business prices (B2B).
BASES = ("gross", "net")


def unit_gross_of(unit_net: Decimal, vat_rate: Decimal, currency: str) -> Decimal:
    """The displayed gross of a net unit price: net plus VAT, half up."""
    return quantize(unit_net * (1 + vat_rate), currency)


@dataclass(frozen=True)
class GoodsLine:
    quantity: int
    unit_price_net: Decimal
    unit_price_gross: Decimal
    """As displayed; for a consumer the line is priced from it."""
    vat_rate: Decimal
    discount: Decimal = Decimal("0")
    """The line's share of a discount, gross for ``gross``, net for ``net``."""


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    vat: Decimal
    gross: Decimal


def price_goods(lines: Sequence[GoodsLine], basis: str, currency: str) -> list[LineAmounts]:
    """The amounts of each line, VAT per rate (see the module)."""
    if basis not in BASES:
        raise ValueError(f"basis must be one of {BASES}")
    base = [
        (
            line.quantity * line.unit_price_gross
            if basis == "gross"
            else quantize(line.unit_price_net * line.quantity, currency)
        )
        - line.discount
        for line in lines
    ]
    by_rate: dict[Decimal, list[int]] = defaultdict(list)
    for index, line in enumerate(lines):
        by_rate[line.vat_rate.normalize()].append(index)
    vats = [Decimal("0")] * len(lines)
    for rate, indices in by_rate.items():
        amounts = [base[i] for i in indices]
        total = sum(amounts, Decimal("0"))
        factor = rate / (1 + rate) if basis == "gross" else rate
        rate_vat = quantize(total * factor, currency)
        for i, vat in zip(indices, allocate(rate_vat, amounts, currency), strict=True):
            vats[i] = vat
    if basis == "gross":
        return [LineAmounts(g - v, v, g) for g, v in zip(base, vats, strict=True)]
    return [LineAmounts(n, v, n + v) for n, v in zip(base, vats, strict=True)]
