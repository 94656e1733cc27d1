"""The CSV import (the whole file in one unit of work, or nothing) and image registration,
in memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from kontor_catalog.api.csv_io import check_row
from kontor_catalog.application.categories import AddCategory, add_category
from kontor_catalog.application.csv_import import import_file as _import_file
from kontor_catalog.application.images import add_image, remove_image, reorder_images
from kontor_catalog.domain.csv_format import CsvFileError
from kontor_catalog.domain.errors import UnknownProduct
from kontor_catalog.domain.images import UnknownImage
from kontor_catalog.domain.product_view import ProductView
from kontor_catalog.domain.stock import StockLevel
from kontor_catalog.store.memory import InMemoryBlobs, InMemoryImageRepository
from kontor_contracts.events.catalog import ProductCreated, ProductPriceChanged, ProductUpdated
from kontor_servicekit.blobs import Upload
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.domain_errors import Invalid
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit

AddProduct = Callable[..., Awaitable[ProductView]]

HEADER = "sku;name;price_net;vat_class;stock;categories;gtin;parent_sku;variant_attributes\r\n"


async def import_file(transactor: Any, data: bytes, *, clock: FakeClock) -> Any:
    """The import with the API's row check, as the route runs it."""
    return await _import_file(transactor, data, check=check_row, clock=clock)


def csv(*rows: str) -> bytes:
    return ("\ufeff" + HEADER + "".join(row + "\r\n" for row in rows)).encode()


async def test_every_bad_row_is_reported_and_a_file_with_one_is_applied_not_at_all(
    catalog: FakeTransactor[Any], clock: FakeClock
) -> None:
    await add_category(catalog, AddCategory("kaffee", "Kaffee"), clock=clock)
    good = (
        "KAFFEE-1;Espresso;17,66;7;120;kaffee;4006381333931;;",
        "DUP-GTIN-2;Doppelt;1,00;standard;3;;;;",
    )
    report = await import_file(
        catalog,
        csv(
            good[0],
            "BAD-CAT;Unbekannt;1,00;standard;3;nope;;;",
            "DUP-GTIN;Doppelt;1,00;standard;3;;4006381333931;;",
            good[1],
            "ORPHAN;Waise;1,00;standard;1;;;NOPE;size=L",
            "BAD-PRICE;Preis;1,2,3;standard;1;;;;",
            "HUGE-STOCK;Lager;1,00;standard;99999999999999999999999;;;;",
            "HUGE-PRICE;Preis;999999999999999999999,123456789;standard;1;;;;",
        ),
        clock=clock,
    )
    assert (report.created, report.updated, report.unchanged, report.failed_rows) == (0, 0, 0, 6)
    assert report.applied is False
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "categories"),
        (4, "gtin"),
        (6, "parent_sku"),
        (7, "price_net"),
        (8, "stock"),
        (9, "price_net"),
    ]
    assert catalog.db.rows("products") == []
    assert catalog.db.event_types() == []  # (categories announce nothing)
    assert catalog.db.rows("stock") == []

    # the good rows alone: applied, whole
    report = await import_file(catalog, csv(*good), clock=clock)
    assert (report.created, report.failed_rows, report.applied) == (2, 0, True)
    assert sorted(p.sku for p in catalog.db.rows("products")) == ["DUP-GTIN-2", "KAFFEE-1"]
    assert sorted(level.sku for level in catalog.db.rows("stock")) == ["DUP-GTIN-2", "KAFFEE-1"]
    assert sorted(e.sku for e in catalog.db.events(ProductCreated)) == ["DUP-GTIN-2", "KAFFEE-1"]
    assert StockLevel("KAFFEE-1", "main", 120, 0) in catalog.db.rows("stock")
    assert len(catalog.db.rows("price_history")) == 2


async def test_an_existing_sku_is_updated_and_repriced_in_one_unit_or_not_at_all(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product("TEE-RED", stock=0)  # a parent holds no stock
    await add_product("TEE-RED-M", parent_sku="TEE-RED", variant_attributes={"size": "M"})
    await add_category(catalog, AddCategory("bekleidung", "Bekleidung"), clock=clock)
    before = catalog.db.event_types()
    good = (
        "TEE-RED;T-Shirt rot (neu);16,80;standard;999;bekleidung;;;",  # updated
        "TEE-RED-M;T-Shirt rot, M;19,99;standard;5;;;TEE-RED;size=M",  # unchanged
    )
    report = await import_file(
        catalog,
        csv(
            *good,
            "TEE-RED-M;T-Shirt rot, L;19,99;standard;5;;;TEE-RED;size=L",  # fixed field
            "TEE-RED-M;T-Shirt rot, M!;9,99;standard;5;nope;;TEE-RED;size=M",  # bad category
        ),
        clock=clock,
    )
    assert (report.created, report.updated, report.unchanged, report.applied) == (0, 0, 0, False)
    assert [(e.row, e.column) for e in report.errors] == [
        (4, "variant_attributes"),
        (5, "categories"),
    ]
    assert catalog.db.event_types() == before  # not even the good rows
    assert {p.sku: p.name for p in catalog.db.rows("products")}["TEE-RED"] == "T-Shirt rot, M"

    report = await import_file(catalog, csv(*good), clock=clock)
    assert (report.created, report.updated, report.unchanged, report.applied) == (0, 1, 1, True)
    new = catalog.db.outbox[len(before) :]
    assert [e.type for e in new] == ["ProductUpdated", "ProductPriceChanged"]
    [updated] = catalog.db.events(ProductUpdated)
    assert updated.changed_fields == ["name", "categories", "category"]
    [repriced] = catalog.db.events(ProductPriceChanged)
    assert (repriced.sku, repriced.new_price_net) == ("TEE-RED", Decimal("16.80"))
    by_sku = {p.sku: p for p in catalog.db.rows("products")}
    assert (by_sku["TEE-RED"].name, by_sku["TEE-RED"].price_net) == (
        "T-Shirt rot (neu)",
        Decimal("16.80"),
    )
    # the refused rows changed neither name nor price; stock is not imported for existing SKUs
    assert (by_sku["TEE-RED-M"].name, by_sku["TEE-RED-M"].price_net) == (
        "T-Shirt rot, M",
        Decimal("19.99"),
    )
    assert StockLevel("TEE-RED-M", "main", 10, 0) in catalog.db.rows("stock")


async def test_a_file_that_cannot_be_read_is_refused_as_a_whole(
    catalog: FakeTransactor[Any], clock: FakeClock
) -> None:
    with pytest.raises(CsvFileError) as refused:
        await import_file(catalog, b"sku;name\r\nX;Y\r\n", clock=clock)
    assert refused.value.field == ("file",)
    with pytest.raises(CsvFileError, match="UTF-8"):
        await import_file(
            catalog, "sku;name;price_net;vat_class\r\nÄ".encode("latin-1"), clock=clock
        )
    assert catalog.db.commits == 0


PNG = Upload(b"\x89PNG\r\n\x1a\n" + bytes(20), "image/png", "front.png")


def reading(upload: Upload, reads: list[str]) -> Callable[[], Awaitable[Upload]]:
    async def read() -> Upload:
        reads.append(upload.filename)
        return upload

    return read


async def test_images_are_registered_in_upload_order_with_their_bytes_stored(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product()
    blobs, reads = InMemoryBlobs(), []
    first = await add_image(
        catalog, blobs, sku="TEE-RED-M", upload=reading(PNG, reads), alt="vorne", clock=clock
    )
    back = Upload(b"\xff\xd8\xff" + bytes(10), "image/jpeg", "back.jpg")
    second = await add_image(
        catalog, blobs, sku="TEE-RED-M", upload=reading(back, reads), alt=None, clock=clock
    )
    assert [(i.position, i.content_type, i.size, i.alt) for i in (first, second)] == [
        (1, "image/png", len(PNG.data), "vorne"),
        (2, "image/jpeg", 13, None),
    ]
    assert first.url == f"/products/TEE-RED-M/images/{first.id}"
    assert first.uploaded_at == clock()
    assert catalog.db.rows("product_images") == [first, second]
    assert blobs.blobs[first.id] == (
        PNG.data,
        "image/png",
        {"filename": "front.png", "sku": "TEE-RED-M"},
    )
    assert catalog.db.event_types() == ["ProductCreated"]  # images announce nothing


async def test_an_image_of_an_unknown_product_is_not_even_read(
    catalog: FakeTransactor[Any], clock: FakeClock
) -> None:
    blobs, reads = InMemoryBlobs(), []
    with pytest.raises(UnknownProduct):
        await add_image(
            catalog, blobs, sku="NOPE", upload=reading(PNG, reads), alt=None, clock=clock
        )
    assert (reads, blobs.blobs) == ([], {})


async def test_a_failed_registration_deletes_the_stored_bytes(
    catalog: FakeTransactor[Any],
    clock: FakeClock,
    add_product: AddProduct,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await add_product()
    blobs, reads = InMemoryBlobs(), []

    async def broken(self: Any, image: Any) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(InMemoryImageRepository, "add", broken)
    with pytest.raises(RuntimeError, match="database gone"):
        await add_image(
            catalog, blobs, sku="TEE-RED-M", upload=reading(PNG, reads), alt=None, clock=clock
        )
    assert reads == ["front.png"]
    assert blobs.blobs == {}
    assert catalog.db.tables.get("product_images", {}) == {}
    assert catalog.db.sequences == {}  # the position was not used up


async def three_images(catalog: Any, clock: FakeClock, blobs: InMemoryBlobs) -> list[str]:
    ids = []
    for name in ("front", "back", "side"):
        upload = Upload(PNG.data, "image/png", f"{name}.png")
        image = await add_image(
            catalog, blobs, sku="TEE-RED-M", upload=reading(upload, []), alt=name, clock=clock
        )
        ids.append(image.id)
    return ids


async def test_an_image_is_removed_with_its_bytes_and_the_others_move_up(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    # issue 10 point 14: images could not be removed (405)
    await add_product()
    blobs = InMemoryBlobs()
    front, back, side = await three_images(catalog, clock, blobs)
    left = await remove_image(catalog, blobs, sku="TEE-RED-M", image_id=front)
    assert [(i.id, i.position) for i in left] == [(back, 1), (side, 2)]
    stored = sorted(catalog.db.rows("product_images"), key=lambda i: i.position)
    assert [(i.id, i.position) for i in stored] == [(back, 1), (side, 2)]
    assert set(blobs.blobs) == {back, side}
    with pytest.raises(UnknownImage):
        await remove_image(catalog, blobs, sku="TEE-RED-M", image_id=front)
    with pytest.raises(UnknownProduct):
        await remove_image(catalog, blobs, sku="NOPE", image_id=back)
    assert set(blobs.blobs) == {back, side}
    newest = await add_image(
        catalog, blobs, sku="TEE-RED-M", upload=reading(PNG, []), alt=None, clock=clock
    )
    assert newest.position > 2  # a new upload is still the last
    assert catalog.db.event_types() == ["ProductCreated"]  # images announce nothing


async def test_images_are_put_in_another_order_naming_each_once(
    catalog: FakeTransactor[Any], clock: FakeClock, add_product: AddProduct
) -> None:
    await add_product()
    blobs = InMemoryBlobs()
    front, back, side = await three_images(catalog, clock, blobs)
    ordered = await reorder_images(catalog, sku="TEE-RED-M", image_ids=[side, front, back])
    assert [(i.id, i.position) for i in ordered] == [(side, 1), (front, 2), (back, 3)]
    stored = sorted(catalog.db.rows("product_images"), key=lambda i: i.position)
    assert [i.id for i in stored] == [side, front, back]
    for wrong in ([side, front], [side, front, back, back], [side, front, "nope"]):
        with pytest.raises(Invalid) as caught:
            await reorder_images(catalog, sku="TEE-RED-M", image_ids=wrong)
        assert caught.value.field == ("image_ids",)
    stored = sorted(catalog.db.rows("product_images"), key=lambda i: i.position)
    assert [i.id for i in stored] == [side, front, back]  # a refused order changes nothing
