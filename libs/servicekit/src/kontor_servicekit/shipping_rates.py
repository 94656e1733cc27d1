"""How a shipping method's rate table prices a basket, and the shipping's VAT and gross.

The catalog quotes shipping (``GET /shipping-methods/{id}/quote``) and orders charges
it when an order is placed, from the same table (carried by ShippingMethodChanged).
Both evaluate it here, so a quote is what the order will charge; a property test
(``tests/unit/test_shipping_quote_and_charge.py``) proves it for generated tables.

The rules:

- A zone's rows are ordered by their bound (the most grams, or the most gross goods
  value, the row covers), rows without a bound last; the first row whose bound is at
  least the basket's measure applies, a row without a bound takes everything above.
  Above the last bounded row of a table without an open row there is no rate (None).
  The catalog accepts only tables already in that order, so the order of the rows as
  entered never matters; sorting keeps a table of any order meaningful.
- From ``free_from`` (gross goods value, inclusive) on, shipping is free.
- VAT is the net times the rate, rounded half up to the currency's minor unit; the
  gross is net plus that VAT, as on every order and invoice line (the contracts
  demand that nets, VATs and grosses of an order add up).
- Shipping is an ancillary service and follows the VAT of the goods
  (:func:`split_by_goods`): its net is split over the goods' VAT rates in proportion
  to the goods' net value per rate, each part taxed at its rate. A coffee-only basket
  (7 %) pays 7 % on shipping; a basket of 30 net at 19 % and 10 net at 7 % pays 19 %
  on three quarters of the shipping and 7 % on the rest. The method's own
  ``vat_rate`` applies only to a basket without goods value.

Why here: it is behaviour two services share at run time (like :mod:`kontor_servicekit.images`),
not a wire format, and the kit's package imports nothing, so domain code may import
this module as it imports :mod:`kontor_servicekit.clock`. It uses the standard library
and, for rounding, the one rounding helper :func:`kontor_contracts.money.quantize` (a
plain function; importing it loads the contracts package, which imports pydantic, but
nothing here uses pydantic).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from kontor_contracts.money import allocate, quantize

__all__ = [
    "FREE",
    "RateRow",
    "bound_of",
    "rate_net",
    "shipping_gross",
    "shipping_vat",
    "split_by_goods",
]

#: What free shipping costs, net and gross.
FREE = Decimal("0.00")


@dataclass(frozen=True)
class RateRow:
    """One row of a zone's rate table; the bound that counts depends on the method's basis."""

    zone_id: str
    price_net: Decimal
    max_weight_grams: int | None = None
    max_value: Decimal | None = None


def bound_of(row: RateRow, basis: str) -> Decimal | None:
    """The row's bound for a ``weight`` or ``value`` method; None: no bound (open row)."""
    if basis == "weight":
        return None if row.max_weight_grams is None else Decimal(row.max_weight_grams)
    return row.max_value


def rate_net(
    rates: Iterable[RateRow],
    *,
    basis: str,
    zone_id: str,
    weight_grams: int,
    goods_gross: Decimal,
    free_from: Decimal | None,
) -> Decimal | None:
    """The net shipping price of a basket to zone ``zone_id``; None if beyond the table."""
    if free_from is not None and goods_gross >= free_from:
        return FREE
    measure = Decimal(weight_grams) if basis == "weight" else goods_gross
    rows = sorted(
        (row for row in rates if row.zone_id == zone_id),
        key=lambda row: _sort_key(bound_of(row, basis)),
    )
    for row in rows:
        limit = bound_of(row, basis)
        if limit is None or measure <= limit:
            return row.price_net
    return None


def _sort_key(limit: Decimal | None) -> tuple[bool, Decimal]:
    return (limit is None, Decimal(0) if limit is None else limit)


def shipping_vat(net: Decimal, vat_rate: Decimal, currency: str) -> Decimal:
    """VAT of a net shipping price, rounded half up to the currency's minor unit."""
    return quantize(net * vat_rate, currency)


def shipping_gross(net: Decimal, vat_rate: Decimal, currency: str) -> Decimal:
    """Net plus its rounded VAT: what the customer pays for shipping."""
    return net + shipping_vat(net, vat_rate, currency)


def split_by_goods(
    net: Decimal,
    goods_net_by_rate: dict[Decimal, Decimal],
    currency: str,
    *,
    fallback_rate: Decimal,
) -> list[tuple[Decimal, Decimal]]:
    """The shipping ``net`` as (VAT rate, net part) pairs, highest rate first.

    In proportion to the goods' net per rate (largest remainder, the parts add up
    to ``net``); rates whose part is nothing are left out. Without goods value
    (nothing priced, or only free goods) the whole net is at ``fallback_rate``.
    """
    rates = sorted(
        (rate.normalize() for rate, value in goods_net_by_rate.items() if value > 0),
        reverse=True,
    )
    if not rates:
        return [(fallback_rate, net)]
    weights = [
        sum((v for r, v in goods_net_by_rate.items() if r.normalize() == rate), Decimal(0))
        for rate in rates
    ]
    parts = allocate(net, weights, currency)
    kept = [(rate, part) for rate, part in zip(rates, parts, strict=True) if part != 0]
    return kept or [(rates[0], net)]
