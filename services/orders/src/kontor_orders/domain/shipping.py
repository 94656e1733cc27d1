"""Shipping charges from the catalog's shipping methods (zones and rate tables). Pure.

The table is evaluated by :mod:`kontor_servicekit.shipping_rates`, as the catalog
does when it quotes the method.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from kontor_servicekit.shipping_rates import RateRow, rate_net, split_by_goods

from kontor_orders.domain.order import OrderError, ShippingCharge

__all__ = ["STANDARD", "RateRow", "ShippingMethod", "shipping_charge"]

STANDARD = "standard"


@dataclass(frozen=True)
class ShippingMethod:
    """What ShippingMethodChanged says about one method (the newest event wins)."""

    method_id: str
    name: str
    basis: str  # weight | value
    zones: dict[str, tuple[str, ...]]  # zone_id -> countries
    rates: tuple[RateRow, ...]
    currency: str
    vat_rate: Decimal
    active: bool
    carrier: str | None = None
    free_from: Decimal | None = None

    def zone_of(self, country: str) -> str | None:
        return next((zone for zone, countries in self.zones.items() if country in countries), None)

    def price_net(self, *, country: str, goods_gross: Decimal, weight_grams: int) -> Decimal:
        """The net price for a basket; OrderError(("shipping_method",)) if not offered.

        The first row of the zone (ascending by bound) whose bound is at least the
        basket's weight or gross goods value applies; a row without a bound takes
        everything above. Free from ``free_from`` (gross goods value). See
        :func:`kontor_servicekit.shipping_rates.rate_net`.
        """
        if not self.active:
            raise OrderError(("shipping_method",), f"{self.method_id!r} is no longer offered")
        zone = self.zone_of(country)
        if zone is None:
            raise OrderError(("shipping_method",), f"{self.method_id!r} does not ship to {country}")
        net = rate_net(
            self.rates,
            basis=self.basis,
            zone_id=zone,
            weight_grams=weight_grams,
            goods_gross=goods_gross,
            free_from=self.free_from,
        )
        if net is not None:
            return net
        raise OrderError(
            ("shipping_method",), f"{self.method_id!r} has no rate for this basket to {country}"
        )


def shipping_charge(
    method: ShippingMethod | None,
    standard: ShippingMethod | None,
    *,
    requested: str,
    currency: str,
    country: str,
    goods_gross: Decimal,
    weight_grams: int,
    goods_net_by_rate: dict[Decimal, Decimal] | None = None,
) -> ShippingCharge:
    """The charge for the requested method, with what standard would have cost
    (the most a withdrawal of the whole order refunds).

    Its VAT follows the goods (``goods_net_by_rate``, see
    :func:`kontor_servicekit.shipping_rates.split_by_goods`); None: the method's rate.
    """
    if method is None:
        raise OrderError(("shipping_method",), f"no shipping method {requested!r} is offered")
    if method.currency != currency:
        raise OrderError(("shipping_method",), f"{requested!r} is priced in {method.currency}")
    net = method.price_net(country=country, goods_gross=goods_gross, weight_grams=weight_grams)
    standard_gross = None
    if standard is not None and standard.currency == currency:
        try:
            standard_net = standard.price_net(
                country=country, goods_gross=goods_gross, weight_grams=weight_grams
            )
        except OrderError:
            standard_gross = None  # no standard to this basket: the charge itself is the cap
        else:
            standard_gross = _charge(standard, standard_net, currency, goods_net_by_rate).gross
    return replace(_charge(method, net, currency, goods_net_by_rate), standard_gross=standard_gross)


def _charge(
    method: ShippingMethod,
    net: Decimal,
    currency: str,
    goods_net_by_rate: dict[Decimal, Decimal] | None,
) -> ShippingCharge:
    split: tuple[tuple[Decimal, Decimal], ...] = ()
    rate = method.vat_rate
    if goods_net_by_rate is not None:
        split = tuple(
            split_by_goods(net, goods_net_by_rate, currency, fallback_rate=method.vat_rate)
        )
        rate = max(split, key=lambda part: part[1])[0]
    return ShippingCharge(
        method=method.method_id,
        net=net,
        vat_rate=rate,
        currency=currency,
        carrier=method.carrier,
        split=split,
    )
