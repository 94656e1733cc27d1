"""Distance sales to consumers in other member states (One-Stop-Shop, §3c UStG), as
orders prices them (ADR 0026). Pure.

Orders keeps the running total of the year's distance sales (net, every consumer order
shipped to another member state; domestic sales and intra-community supplies do not
count) and decides, inside the order's own transaction, whether the order is taxed in
Germany or in the destination state: the rule is :mod:`kontor_contracts.eu_vat`'s.
The sale that takes the year's total above EUR 10,000 is the first taxed abroad.

Gross prices stay the shop's gross prices: a consumer pays the displayed price in every
member state, and the net absorbs the rate difference (a unit net of four places, as
for gross-entered prices, ADR 0017).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from kontor_contracts.eu_vat import (
    crosses_threshold,
    destination_rate,
    is_distance_sale,
    oss_applies,
)

if TYPE_CHECKING:
    from kontor_orders.domain.order import PricedProduct

__all__ = ["DistanceSales", "destination_priced", "taxed_in"]

_UNIT_NET = Decimal("0.0001")


@dataclass(frozen=True)
class DistanceSales:
    """The net of the distance sales orders counted in a year and the year before."""

    previous_year: Decimal
    current_year: Decimal


def taxed_in(
    *,
    buyer_vat_id: str | None,
    destination: str,
    sales: DistanceSales,
    sale_net_at_home: Decimal,
    opt_in: bool,
) -> str | None:
    """The member state whose rates the sale carries when not Germany's, else None.

    ``sale_net_at_home`` is the order's net priced at German rates: whether this sale
    crosses the threshold is judged on it (priced at the destination's rates the net
    differs by the rate difference; either way the sale is taxed abroad once the total
    is over, and the total counts the net actually invoiced).
    """
    if not is_distance_sale(buyer_vat_id, destination):
        return None
    if oss_applies(sales.previous_year, sales.current_year, opt_in=opt_in) or crosses_threshold(
        sales.current_year, sale_net_at_home
    ):
        return destination
    return None


def destination_priced(country: str, day: date, product: PricedProduct) -> PricedProduct:
    """``product`` at ``country``'s rate for its German one on ``day``, same gross."""
    gross = product.unit_price_gross
    rate = destination_rate(country, product.vat_rate, day)
    net = (gross / (1 + rate)).quantize(_UNIT_NET, rounding=ROUND_HALF_UP)
    return replace(product, price_net=net, vat_rate=rate, price_gross=gross)
