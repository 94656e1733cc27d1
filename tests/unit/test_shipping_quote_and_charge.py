"""The catalog's shipping quote and the order's shipping charge agree, for any table.

A generated shipping method is built as the catalog's domain object (which refuses
tables the catalog would not store), travels as the catalog announces it
(ShippingMethodChanged, through JSON), becomes the orders read model's method, and
then the catalog quotes and orders charges the same basket: both must say the same
net and gross, or both must refuse. Before the table evaluation and the rounding
were shared (kontor_servicekit.shipping_rates), nets with more than two decimal
places were quoted at round(net x (1 + rate)) but charged at net + round(net x rate).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kontor_catalog.application.shipping import _changed
from kontor_catalog.domain.shipping import Rate, Zone
from kontor_catalog.domain.shipping import ShippingMethod as CatalogMethod
from kontor_contracts.events.catalog import ShippingMethodChanged
from kontor_orders.domain.order import OrderError, ShippingCharge
from kontor_orders.domain.shipping import ShippingMethod as OrdersMethod
from kontor_orders.domain.shipping import shipping_charge
from kontor_orders.store.shipping_methods import method_of

pytestmark = pytest.mark.unit

COUNTRIES = ("DE", "AT", "FR", "NL", "BE", "PL", "DK", "CZ")
NOWHERE = "US"


def amounts(max_value: int) -> st.SearchStrategy[Decimal]:
    """Non-negative amounts with 0 to 4 decimal places, as the catalog's API accepts."""
    return st.tuples(st.integers(0, 4), st.integers(0, max_value * 10**4)).map(
        lambda p: (Decimal(p[1]).scaleb(-4)).quantize(Decimal(1).scaleb(-p[0]), ROUND_DOWN)
    )


@st.composite
def tables(draw: st.DrawFn, zone_id: str, basis: str) -> list[Rate]:
    """One zone's rows, ascending by bound; the last may be open."""
    if basis == "weight":
        bounds: list[Any] = draw(st.lists(st.integers(0, 40_000), min_size=1, max_size=4))
    else:
        bounds = draw(st.lists(amounts(500), min_size=1, max_size=4))
    ordered = sorted(set(bounds))
    rows = [
        Rate(zone_id, draw(amounts(200)), max_weight_grams=b)
        if basis == "weight"
        else Rate(zone_id, draw(amounts(200)), max_value=b)
        for b in ordered
    ]
    if draw(st.booleans()):
        rows.append(Rate(zone_id, draw(amounts(200))))
    return rows


@st.composite
def methods(draw: st.DrawFn) -> CatalogMethod:
    basis = draw(st.sampled_from(["weight", "value"]))
    countries = draw(st.permutations(COUNTRIES))
    cuts = sorted(draw(st.sets(st.integers(1, len(COUNTRIES) - 1), max_size=2)))
    groups = [countries[a:b] for a, b in zip([0, *cuts], [*cuts, len(COUNTRIES)], strict=True)]
    zones = tuple(Zone(f"z{i}", tuple(group)) for i, group in enumerate(groups))
    rates = [row for zone in zones for row in draw(tables(zone.zone_id, basis))]
    vat_rate = draw(
        st.sampled_from([Decimal("0"), Decimal("0.07"), Decimal("0.19")])
        | st.integers(0, 9999).map(lambda n: Decimal(n).scaleb(-4))
    )
    return CatalogMethod(
        method_id="m",
        name="Method",
        basis=basis,
        zones=zones,
        rates=tuple(rates),
        currency=draw(st.sampled_from(["EUR", "CHF", "JPY"])),
        vat_rate=vat_rate,
        free_from=draw(st.none() | amounts(300)),
        active=draw(st.booleans()),
    )


def as_orders_knows_it(method: CatalogMethod) -> OrdersMethod:
    """What the catalog announces, over the wire, as the orders read model keeps it."""
    event = ShippingMethodChanged.model_validate_json(_changed(method).model_dump_json())
    return method_of({**event.model_dump(mode="python"), "_id": event.method_id})


def quote(
    method: CatalogMethod, country: str, grams: int, goods: Decimal
) -> tuple[str, str] | None:
    net = method.quote(country=country, weight_grams=grams, goods_value=goods)
    return None if net is None else (str(net), str(method.gross_of(net)))


def charge(
    method: OrdersMethod, country: str, grams: int, goods: Decimal
) -> tuple[str, str] | None:
    try:
        charged: ShippingCharge = shipping_charge(
            method,
            None,
            requested=method.method_id,
            currency=method.currency,
            country=country,
            goods_gross=goods,
            weight_grams=grams,
        )
    except OrderError:
        return None
    return str(charged.net), str(charged.gross)


@settings(max_examples=500, deadline=None)
@given(
    method=methods(),
    country=st.sampled_from([*COUNTRIES, NOWHERE]),
    grams=st.integers(0, 50_000),
    goods=amounts(600),
)
def test_quote_and_charge_agree_for_any_table_weight_and_value(
    method: CatalogMethod, country: str, grams: int, goods: Decimal
) -> None:
    assert quote(method, country, grams, goods) == charge(
        as_orders_knows_it(method), country, grams, goods
    )


def test_a_net_beyond_cents_is_quoted_as_it_is_charged() -> None:
    # the input on which the two copies disagreed: quoted 5.00, charged 5.0017
    method = CatalogMethod(
        method_id="standard",
        name="DHL Paket",
        basis="weight",
        zones=(Zone("de", ("DE",)),),
        rates=(Rate("de", Decimal("4.2017")),),
    )
    expected = ("4.2017", "5.0017")
    assert quote(method, "DE", 500, Decimal("20.00")) == expected
    assert charge(as_orders_knows_it(method), "DE", 500, Decimal("20.00")) == expected
