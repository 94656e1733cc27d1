"""Shipping charges from the catalog's shipping methods (zones and rate tables). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kontor_orders.domain.order import OrderError, ShippingCharge

STANDARD = "standard"


@dataclass(frozen=True)
class RateRow:
    zone_id: str
    price_net: Decimal
    max_weight_grams: int | None = None
    max_value: Decimal | None = None


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
        everything above. Free from ``free_from`` (gross goods value).
        """
        if not self.active:
            raise OrderError(("shipping_method",), f"{self.method_id!r} is no longer offered")
        zone = self.zone_of(country)
        if zone is None:
            raise OrderError(("shipping_method",), f"{self.method_id!r} does not ship to {country}")
        if self.free_from is not None and goods_gross >= self.free_from:
            return Decimal("0.00")
        by_weight = self.basis == "weight"
        measure: Decimal = Decimal(weight_grams) if by_weight else goods_gross

        def bound(row: RateRow) -> Decimal | None:
            if by_weight:
                return None if row.max_weight_grams is None else Decimal(row.max_weight_grams)
            return row.max_value

        rows = sorted(
            (r for r in self.rates if r.zone_id == zone),
            key=lambda r: (bound(r) is None, bound(r) or Decimal(0)),
        )
        for row in rows:
            limit = bound(row)
            if limit is None or measure <= limit:
                return row.price_net
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
            standard_gross = ShippingCharge(STANDARD, standard_net, standard.vat_rate).gross
    return ShippingCharge(
        method=method.method_id,
        net=net,
        vat_rate=method.vat_rate,
        carrier=method.carrier,
        standard_gross=standard_gross,
    )
