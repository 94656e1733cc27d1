"""Categories and shipping methods over the in-memory unit of work."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_catalog.application.categories import AddCategory, add_category
from kontor_catalog.application.shipping import create_method, replace_method, withdraw_method
from kontor_catalog.domain.category import CategoryTaken, UnknownParent
from kontor_catalog.domain.shipping import MethodTaken, Rate, ShippingMethod, UnknownMethod, Zone
from kontor_contracts.events.catalog import ShippingMethodChanged
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit


async def test_categories_form_a_tree_with_the_path_of_their_ancestors(
    catalog: FakeTransactor[Any], clock: FakeClock
) -> None:
    root = await add_category(catalog, AddCategory("bekleidung", "Bekleidung"), clock=clock)
    clock.advance(timedelta(minutes=1))
    child = await add_category(
        catalog,
        AddCategory("t-shirts", "T-Shirts", name_en="T-shirts", parent_id="bekleidung"),
        clock=clock,
    )
    grandchild = await add_category(
        catalog, AddCategory("bio-shirts", "Bio", parent_id="t-shirts"), clock=clock
    )
    assert (root.path, root.parent_id) == ((), None)
    assert (child.path, child.parent_id, child.name_en) == (
        ("bekleidung",),
        "bekleidung",
        "T-shirts",
    )
    assert grandchild.path == ("bekleidung", "t-shirts")
    assert child.created_at == clock()
    assert [c.id for c in catalog.db.rows("categories")] == ["bekleidung", "t-shirts", "bio-shirts"]
    assert catalog.db.outbox == []  # categories announce nothing


async def test_an_unknown_parent_or_a_taken_id_is_refused(
    catalog: FakeTransactor[Any], clock: FakeClock
) -> None:
    await add_category(catalog, AddCategory("kaffee", "Kaffee"), clock=clock)
    with pytest.raises(UnknownParent) as orphan:
        await add_category(catalog, AddCategory("x", "X", parent_id="nope"), clock=clock)
    assert (orphan.value.field, orphan.value.message) == (("parent_id",), "no category 'nope'")
    with pytest.raises(CategoryTaken, match="a category 'kaffee' exists already"):
        await add_category(catalog, AddCategory("kaffee", "K"), clock=clock)
    [kept] = catalog.db.rows("categories")
    assert kept.name == "Kaffee"


def standard(**changes: Any) -> ShippingMethod:
    method = ShippingMethod(
        method_id="standard",
        name="DHL Paket",
        carrier="DHL",
        basis="weight",
        zones=(Zone("de", ("DE",), "Deutschland"),),
        rates=(Rate("de", Decimal("4.12"), 2000), Rate("de", Decimal("5.88"))),
        free_from=Decimal("50.00"),
    )
    return replace(method, **changes)


async def test_every_change_of_a_method_announces_its_full_state(
    catalog: FakeTransactor[Any],
) -> None:
    await create_method(catalog, standard())
    [created] = catalog.db.events(ShippingMethodChanged)
    assert (created.method_id, created.active, created.free_from) == (
        "standard",
        True,
        Decimal("50.00"),
    )
    assert [(r.zone_id, r.max_weight_grams, r.price_net) for r in created.rates] == [
        ("de", 2000, Decimal("4.12")),
        ("de", None, Decimal("5.88")),
    ]
    assert catalog.db.outbox[0].aggregate_id == "standard"

    cheaper = standard(rates=(Rate("de", Decimal("3.99"), 2000), Rate("de", Decimal("5.49"))))
    assert await replace_method(catalog, cheaper) == cheaper
    assert catalog.db.rows("shipping_methods") == [cheaper]
    assert await replace_method(catalog, cheaper) == cheaper  # the same again: no event
    withdrawn = await withdraw_method(catalog, "standard")
    assert withdrawn == replace(cheaper, active=False)
    assert await withdraw_method(catalog, "standard") == withdrawn  # withdrawn already
    events = catalog.db.events(ShippingMethodChanged)
    assert [(e.rates[0].price_net, e.active) for e in events] == [
        (Decimal("4.12"), True),
        (Decimal("3.99"), True),
        (Decimal("3.99"), False),
    ]


async def test_a_taken_or_unknown_method_is_refused(catalog: FakeTransactor[Any]) -> None:
    await create_method(catalog, standard())
    with pytest.raises(MethodTaken, match="a shipping method 'standard' exists already"):
        await create_method(catalog, standard(name="Other"))
    with pytest.raises(UnknownMethod, match="no shipping method 'express'"):
        await replace_method(catalog, standard(method_id="express"))
    with pytest.raises(UnknownMethod):
        await withdraw_method(catalog, "express")
    assert catalog.db.rows("shipping_methods") == [standard()]
    assert len(catalog.db.events(ShippingMethodChanged)) == 1


def test_a_quote_is_net_and_gross_as_the_order_charges_it() -> None:
    method = standard(vat_rate=Decimal("0.19"))
    quote = method.price_quote(country="DE", weight_grams=1500, goods_value=Decimal("39.90"))
    assert (quote.available, quote.net, quote.gross) == (True, Decimal("4.12"), Decimal("4.90"))
    free = method.price_quote(country="DE", weight_grams=1500, goods_value=Decimal("50.00"))
    assert (free.net, free.gross) == (Decimal("0.00"), Decimal("0.00"))
    abroad = method.price_quote(country="FR", weight_grams=1, goods_value=Decimal(1))
    assert (abroad.available, abroad.net, abroad.gross) == (False, None, None)
