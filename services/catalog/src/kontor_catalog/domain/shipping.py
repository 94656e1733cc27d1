"""Shipping methods: zones of countries, rate tables by weight or goods value, free shipping.

Pure. The rows of a zone's table ascend by their bound; only the last may be open.
The first row whose bound is at least the order's weight (grams) or gross goods value
applies; an open row takes everything above. From ``free_from`` (gross goods value)
on, shipping costs nothing. The table is evaluated, and VAT and gross rounded, by
:mod:`kontor_servicekit.shipping_rates`, as orders does when it charges the method.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from kontor_servicekit.domain_errors import Conflict, NotFound
from kontor_servicekit.shipping_rates import RateRow, bound_of, rate_net, shipping_gross

from kontor_catalog.domain.errors import ProductError

Basis = Literal["weight", "value"]


class ShippingError(ProductError):
    """A shipping method that would break a rule (``field`` names the offending part)."""


class MethodTaken(Conflict):
    def __init__(self, method_id: str) -> None:
        super().__init__(f"a shipping method {method_id!r} exists already")
        self.method_id = method_id


class UnknownMethod(NotFound):
    def __init__(self, method_id: str) -> None:
        super().__init__("shipping method", method_id, message=f"no shipping method {method_id!r}")
        self.method_id = method_id


METHOD_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")


@dataclass(frozen=True)
class Zone:
    zone_id: str
    countries: tuple[str, ...]
    name: str | None = None


#: One row of a zone's rate table (the kit's, shared with orders).
Rate = RateRow


@dataclass(frozen=True)
class ShippingMethod:
    method_id: str
    name: str
    basis: Basis
    zones: tuple[Zone, ...]
    rates: tuple[Rate, ...]
    currency: str = "EUR"
    vat_rate: Decimal = Decimal("0.19")
    carrier: str | None = None
    free_from: Decimal | None = None
    active: bool = True

    def __post_init__(self) -> None:
        if not METHOD_ID.match(self.method_id):
            raise ShippingError("id", "lower-case letters, digits, _ and - only")
        if not self.zones:
            raise ShippingError("zones", "at least one zone")
        seen_countries: dict[str, str] = {}
        zone_ids = [zone.zone_id for zone in self.zones]
        if len(set(zone_ids)) != len(zone_ids):
            raise ShippingError("zones", "zone ids must be unique")
        for index, zone in enumerate(self.zones):
            if not zone.countries:
                raise ShippingError(f"zones.{index}.countries", "at least one country")
            for country in zone.countries:
                if country in seen_countries:
                    raise ShippingError(
                        f"zones.{index}.countries",
                        f"{country} is in zone {seen_countries[country]!r} already",
                    )
                seen_countries[country] = zone.zone_id
        for index, rate in enumerate(self.rates):
            if rate.zone_id not in zone_ids:
                raise ShippingError(f"rates.{index}.zone_id", f"no zone {rate.zone_id!r}")
            if rate.price_net < 0:
                raise ShippingError(f"rates.{index}.price_net", "must not be negative")
            other = rate.max_value if self.basis == "weight" else rate.max_weight_grams
            if other is not None:
                wrong = "max_value" if self.basis == "weight" else "max_weight_grams"
                raise ShippingError(
                    f"rates.{index}.{wrong}", f"not for a {self.basis}-based method"
                )
        for zone in self.zones:
            self._check_table(zone.zone_id)
        if self.free_from is not None and self.free_from < 0:
            raise ShippingError("free_from", "must not be negative")
        if not Decimal(0) <= self.vat_rate < 1:
            raise ShippingError("vat_rate", "a fraction, e.g. 0.19")

    def _check_table(self, zone_id: str) -> None:
        rows = [(i, r) for i, r in enumerate(self.rates) if r.zone_id == zone_id]
        if not rows:
            raise ShippingError("rates", f"zone {zone_id!r} has no rate")
        previous: Decimal | None = None
        for position, (index, rate) in enumerate(rows):
            bound = bound_of(rate, self.basis)
            if bound is None:
                if position != len(rows) - 1:
                    raise ShippingError(f"rates.{index}", "only the last row of a zone is open")
                continue
            if previous is not None and bound <= previous:
                raise ShippingError(f"rates.{index}", "rows of a zone ascend by their bound")
            previous = bound

    def zone_of(self, country: str) -> Zone | None:
        return next((zone for zone in self.zones if country in zone.countries), None)

    def quote(self, *, country: str, weight_grams: int, goods_value: Decimal) -> Decimal | None:
        """Net shipping price for an order, or None if the method does not ship there/so."""
        if not self.active:
            return None
        zone = self.zone_of(country)
        if zone is None:
            return None
        return rate_net(
            self.rates,
            basis=self.basis,
            zone_id=zone.zone_id,
            weight_grams=weight_grams,
            goods_gross=goods_value,
            free_from=self.free_from,
        )  # None: heavier/dearer than the last bounded row

    def gross_of(self, net: Decimal) -> Decimal:
        """A quoted net price with this method's VAT, rounded as the order will charge it."""
        return shipping_gross(net, self.vat_rate, self.currency)

    def price_quote(self, *, country: str, weight_grams: int, goods_value: Decimal) -> Quote:
        """What the method charges for an order, net and gross, or that it is not offered."""
        net = self.quote(country=country, weight_grams=weight_grams, goods_value=goods_value)
        return Quote(
            method_id=self.method_id,
            net=net,
            gross=None if net is None else self.gross_of(net),
            currency=self.currency,
        )


@dataclass(frozen=True)
class Quote:
    method_id: str
    net: Decimal | None
    """None: no zone for the country, beyond the table, or withdrawn."""
    gross: Decimal | None
    currency: str

    @property
    def available(self) -> bool:
        return self.net is not None
