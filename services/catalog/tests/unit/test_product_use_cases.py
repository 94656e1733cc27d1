"""The product use cases over the in-memory unit of work: create, describe, price, discontinue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_catalog.application.categories import AddCategory, add_category
from kontor_catalog.application.products import (
    ChangePrice,
    CreateProduct,
    change_price,
    create_product,
    discontinue_product,
    update_product,
)
from kontor_catalog.application.stock import count_stock, receive_goods
from kontor_catalog.domain.errors import (
    GtinTaken,
    ParentHasStock,
    ParentHoldsNoStock,
    ProductError,
    SkuTaken,
    UnknownProduct,
)
from kontor_catalog.domain.pricing import PricePoint
from kontor_catalog.domain.product_view import ProductView
from kontor_catalog.domain.stock import StockLevel
from kontor_contracts.events.catalog import (
    ProductCreated,
    ProductDiscontinued,
    ProductPriceChanged,
    ProductUpdated,
)
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.domain_errors import IllegalTransition
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit

AddProduct = Callable[..., Awaitable[ProductView]]


def history(catalog: FakeTransactor[Any]) -> list[tuple[Any, Decimal, str]]:
    return [
        (p.point.effective_at, p.point.net, p.point.vat_class)
        for p in catalog.db.rows("price_history")
    ]


async def test_a_new_product_is_stored_with_its_first_price_and_stock_and_announced(
    catalog: FakeTransactor[Any], clock: FakeClock, command: Callable[..., CreateProduct]
) -> None:
    await add_category(catalog, AddCategory("t-shirts", "T-Shirts"), clock=clock)
    view = await create_product(
        catalog, command(categories=["t-shirts"], weight_grams=180), clock=clock
    )
    [product] = catalog.db.rows("products")
    assert (product.sku, product.created_at, product.version) == ("TEE-RED-M", clock(), 1)
    assert history(catalog) == [(clock(), Decimal("19.99"), "standard")]
    assert catalog.db.rows("stock") == [StockLevel("TEE-RED-M", "main", 10, 0)]
    [created] = catalog.db.events(ProductCreated)
    assert (created.sku, created.price_gross, created.vat_rate) == (
        "TEE-RED-M",
        Decimal("23.79"),
        Decimal("0.19"),
    )
    assert (created.stock, created.category, created.weight_grams) == (10, "t-shirts", 180)
    assert catalog.db.outbox[-1].aggregate_id == "TEE-RED-M"
    shown = view.as_dict()
    assert (shown["stock"], shown["price"]["gross"]) == (10, Decimal("23.79"))
    assert (shown["price"]["lowest_30_days"], shown["price"]["strike_through"]) == (None, None)


async def test_goods_sold_by_measure_show_a_base_price(add_product: AddProduct) -> None:
    view = await add_product(
        "COFFEE-250",
        price_net=Decimal("6.99"),
        vat_class="reduced",
        content_quantity=Decimal("250"),
        content_unit="g",
    )
    assert view.as_dict()["price"]["base_price"] == {"amount": Decimal("29.92"), "per": "1 kg"}


async def test_a_variant_needs_a_parent_that_is_not_a_variant_itself(
    catalog: FakeTransactor[Any], add_product: AddProduct
) -> None:
    with pytest.raises(ProductError) as orphan:
        await add_product("TEE-RED-L", parent_sku="TEE-RED", variant_attributes={"size": "L"})
    assert orphan.value.field == ("parent_sku",)
    await add_product("TEE-RED", stock=0)
    await add_product("TEE-RED-L", parent_sku="TEE-RED", variant_attributes={"size": "L"})
    with pytest.raises(ProductError, match="a variant cannot have variants"):
        await add_product("TEE-RED-L-X", parent_sku="TEE-RED-L", variant_attributes={"cut": "X"})
    assert sorted(p.sku for p in catalog.db.rows("products")) == ["TEE-RED", "TEE-RED-L"]
    assert catalog.db.event_types() == ["ProductCreated", "ProductCreated"]


async def test_refused_products_leave_nothing_behind(
    catalog: FakeTransactor[Any], add_product: AddProduct
) -> None:
    with pytest.raises(ProductError) as unknown:
        await add_product(categories=["nope", "also-nope"])
    assert unknown.value.field == ("categories",)
    assert unknown.value.message == "unknown categories: nope, also-nope"
    with pytest.raises(ProductError) as bad_unit:
        await add_product(content_quantity=Decimal(1), content_unit="furlong")
    assert bad_unit.value.field == ("content", "unit")
    assert catalog.db.tables.get("products", {}) == {}
    assert catalog.db.tables.get("stock", {}) == {}
    assert catalog.db.tables.get("price_history", {}) == {}
    assert catalog.db.outbox == []


async def test_the_same_sku_or_gtin_again_is_a_conflict_and_the_first_stays(
    catalog: FakeTransactor[Any], add_product: AddProduct
) -> None:
    await add_product(gtin="4006381333931", stock=3)
    with pytest.raises(SkuTaken, match="exists already"):
        await add_product(name="Another", stock=7)
    with pytest.raises(GtinTaken, match="4006381333931"):
        await add_product("TEE-RED-L", gtin="4006381333931")
    [product] = catalog.db.rows("products")
    assert product.name == "T-Shirt rot, M"
    assert catalog.db.rows("stock") == [StockLevel("TEE-RED-M", "main", 3, 0)]
    assert catalog.db.event_types() == ["ProductCreated"]


async def test_an_update_announces_the_changed_fields_and_the_first_category(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product(brand="Nordfaser")
    for category_id in ("t-shirts", "bio"):
        await add_category(catalog, AddCategory(category_id, category_id), clock=clock)
    view = await update_product(
        catalog,
        "TEE-RED-M",
        {"name_en": "T-shirt red, M", "brand": None, "categories": ["t-shirts", "bio"]},
    )
    assert (view.product.name_en, view.product.brand) == ("T-shirt red, M", None)
    [updated] = catalog.db.events(ProductUpdated)
    assert updated.changed_fields == ["name_en", "brand", "categories", "category"]
    assert (updated.category, updated.brand, updated.name) == ("t-shirts", None, None)
    [stored] = catalog.db.rows("products")
    assert (stored.categories, stored.version) == (["t-shirts", "bio"], 2)

    commits = catalog.db.commits
    again = await update_product(catalog, "TEE-RED-M", {"brand": None, "name_en": "T-shirt red, M"})
    assert again.product == view.product
    assert len(catalog.db.events(ProductUpdated)) == 1
    assert catalog.db.rows("products")[0].version == 2  # nothing written
    assert catalog.db.commits == commits + 1


async def test_an_update_with_unknown_categories_or_sku_changes_nothing(
    catalog: FakeTransactor[Any], add_product: AddProduct
) -> None:
    await add_product()
    with pytest.raises(ProductError) as refused:
        await update_product(catalog, "TEE-RED-M", {"name": "Neu", "categories": ["nope"]})
    assert refused.value.field == ("categories",)
    assert catalog.db.rows("products")[0].name == "T-Shirt rot, M"
    with pytest.raises(UnknownProduct, match="no product with SKU 'NOPE'"):
        await update_product(catalog, "NOPE", {"brand": "x"})
    assert catalog.db.event_types() == ["ProductCreated"]


async def test_a_price_change_is_kept_announced_and_struck_through(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    created_at = clock()
    await add_product()
    clock.advance(timedelta(days=10))
    view = await change_price(catalog, ChangePrice("TEE-RED-M", Decimal("16.80")), clock=clock)
    [changed] = catalog.db.events(ProductPriceChanged)
    assert (changed.old_price_net, changed.new_price_net) == (Decimal("19.99"), Decimal("16.80"))
    assert (changed.old_price_gross, changed.price_gross) == (Decimal("23.79"), Decimal("19.99"))
    assert (changed.vat_class, changed.effective_at) == ("standard", clock())
    assert history(catalog) == [
        (created_at, Decimal("19.99"), "standard"),
        (clock(), Decimal("16.80"), "standard"),
    ]
    price = view.as_dict()["price"]
    assert (price["gross"], price["lowest_30_days"], price["strike_through"]) == (
        Decimal("19.99"),
        Decimal("23.79"),
        Decimal("23.79"),
    )
    # the same price again changes and announces nothing
    clock.advance(timedelta(days=1))
    await change_price(catalog, ChangePrice("TEE-RED-M", Decimal("16.80")), clock=clock)
    assert len(catalog.db.events(ProductPriceChanged)) == 1
    assert len(history(catalog)) == 2
    # another VAT class alone is a change
    view = await change_price(
        catalog, ChangePrice("TEE-RED-M", Decimal("16.80"), "reduced"), clock=clock
    )
    assert view.product.vat_class == "reduced"
    assert catalog.db.events(ProductPriceChanged)[-1].price_gross == Decimal("17.98")


async def test_the_reference_price_is_the_lowest_of_the_30_days_before_the_current_one(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product()  # 19.99 net = 23.79 gross from day 0

    async def price(days_later: int, net: str) -> dict[str, Any]:
        clock.advance(timedelta(days=days_later))
        view = await change_price(catalog, ChangePrice("TEE-RED-M", Decimal(net)), clock=clock)
        shown: dict[str, Any] = view.as_dict()["price"]
        return shown

    reduced = await price(40, "16.80")  # 19.99 gross; 23.79 applied until now
    assert (reduced["lowest_30_days"], reduced["strike_through"]) == (
        Decimal("23.79"),
        Decimal("23.79"),
    )
    raised = await price(35, "21.00")  # 24.99 gross; 19.99 applied in the window
    assert (raised["lowest_30_days"], raised["strike_through"]) == (Decimal("19.99"), None)
    again = await price(35, "18.00")  # 21.42 gross; 19.99 ended 35 days ago: out of the window
    assert (again["lowest_30_days"], again["strike_through"]) == (
        Decimal("24.99"),
        Decimal("24.99"),
    )


async def test_a_price_of_an_unknown_product_or_class_is_refused(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product()
    with pytest.raises(UnknownProduct):
        await change_price(catalog, ChangePrice("NOPE", Decimal("1.00")), clock=clock)
    with pytest.raises(ProductError) as refused:
        await change_price(
            catalog, ChangePrice("TEE-RED-M", Decimal("1.00"), "luxury"), clock=clock
        )
    assert refused.value.field == ("vat_class",)
    assert catalog.db.rows("products")[0].price_net == Decimal("19.99")
    assert catalog.db.events(ProductPriceChanged) == []


async def test_discontinue_once_and_twice_is_refused_with_the_product_as_shown(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product()
    clock.advance(timedelta(hours=3))
    view = await discontinue_product(catalog, "TEE-RED-M", "end of line", clock=clock)
    assert (view.product.discontinued, view.product.discontinued_at) == (True, clock())
    [gone] = catalog.db.events(ProductDiscontinued)
    assert (gone.sku, gone.reason, gone.effective_at) == ("TEE-RED-M", "end of line", clock())
    [stored] = catalog.db.rows("products")
    assert (stored.discontinued, stored.discontinue_reason) == (True, "end of line")
    # its stock and price history stay
    assert len(catalog.db.rows("stock")) == len(catalog.db.rows("price_history")) == 1

    with pytest.raises(IllegalTransition) as twice:
        await discontinue_product(catalog, "TEE-RED-M", None, clock=clock)
    assert twice.value.message == "cannot discontinue product TEE-RED-M: it is discontinued"
    assert twice.value.details["current_state"] == view.as_json()
    assert twice.value.details["current_state"]["discontinued"] is True
    assert len(catalog.db.events(ProductDiscontinued)) == 1
    with pytest.raises(UnknownProduct):
        await discontinue_product(catalog, "NOPE", None, clock=clock)


async def test_the_product_as_shown_has_its_variants_stock_and_prices(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    # a parent holds no stock (issue 10 point 14): its variants do
    await add_product("TEE-RED", stock=0)
    for size in ("S", "M"):
        await add_product(
            f"TEE-RED-{size}", parent_sku="TEE-RED", variant_attributes={"size": size}, stock=4
        )
    view = await update_product(catalog, "TEE-RED", {"name": "T-Shirt rot"})
    assert view.variants == ("TEE-RED-M", "TEE-RED-S")
    assert view.available == 0
    assert (await update_product(catalog, "TEE-RED-M", {"name": "T-Shirt rot M"})).available == 4
    assert view.history == (PricePoint(clock(), Decimal("19.99"), "standard", "EUR"),)
    assert view.as_json()["price"] == {
        "net": "19.99",
        "gross": "23.79",
        "entered": "net",
        "currency": "EUR",
        "vat_rate": "0.19",
        "lowest_30_days": None,
        "strike_through": None,
        "base_price": None,
    }


async def test_a_parent_holds_no_stock_its_variants_do(
    catalog: FakeTransactor[Any], add_product: AddProduct
) -> None:
    # issue 10 point 14: the parent of variants could be stocked (and so ordered)
    await add_product("TEE-RED", stock=3)
    with pytest.raises(ParentHasStock) as stocked:
        await add_product("TEE-RED-L", parent_sku="TEE-RED", variant_attributes={"size": "L"})
    assert stocked.value.details == {"on_hand": 3}
    await count_stock(catalog, sku="TEE-RED", warehouse="main", counted=0)
    await add_product("TEE-RED-L", parent_sku="TEE-RED", variant_attributes={"size": "L"})
    before = catalog.db.event_types()
    with pytest.raises(ParentHoldsNoStock) as receipt:
        await receive_goods(catalog, sku="TEE-RED", warehouse="main", quantity=5)
    assert receipt.value.details == {"variants": ["TEE-RED-L"]}
    with pytest.raises(ParentHoldsNoStock):
        await count_stock(catalog, sku="TEE-RED", warehouse="main", counted=2)
    assert catalog.db.event_types() == before
    cleared = await count_stock(catalog, sku="TEE-RED", warehouse="main", counted=0)
    assert cleared.on_hand == 0  # booking out (stock left from before) stays possible
    summary = await receive_goods(catalog, sku="TEE-RED-L", warehouse="main", quantity=5)
    assert summary.on_hand == 15  # the variant's 10 from its creation and 5 received
