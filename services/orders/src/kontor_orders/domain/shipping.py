"""Shipping charges from the catalog's shipping methods (zones and rate tables). Pure.

The table is evaluated by :mod:`kontor_servicekit.shipping_rates`, as the catalog
does when it quotes the method.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kontor_servicekit.shipping_rates import RateRow, rate_net, shipping_gross

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
) -> ShippingCharge:
    """The charge for the requested method, with what standard would have cost
    (the most a withdrawal of the whole order refunds)."""
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
            standard_gross = shipping_gross(standard_net, standard.vat_rate, currency)
    return ShippingCharge(
        method=method.method_id,
        net=net,
        vat_rate=method.vat_rate,
        currency=currency,
        carrier=method.carrier,
        standard_gross=standard_gross,
    )
