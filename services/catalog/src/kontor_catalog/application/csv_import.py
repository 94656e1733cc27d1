"""Import and export of products as CSV; each imported row is its own transaction.

A row for a new SKU creates the product (ProductCreated, its stock on hand in the
default warehouse). A row for an existing SKU updates its descriptive data
(ProductUpdated) and price (ProductPriceChanged) in one transaction; its ``stock``
cell is ignored (stock changes through receipts and counts), and the fields fixed at
creation (parent_sku, variant_attributes, content) must match. A row that fails
changes nothing; the others are imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from kontor_servicekit.store import Store, Transaction
from pymongo.asynchronous.database import AsyncDatabase

from kontor_catalog.application.products import (
    CreateProduct,
    add_product,
    apply_price,
    apply_update,
)
from kontor_catalog.domain.csv_format import CellError, ProductRow
from kontor_catalog.domain.product import DESCRIPTIVE_FIELDS, ProductError
from kontor_catalog.store.products import PRODUCTS, GtinTaken, SkuTaken, from_document
from kontor_catalog.store.stock import STOCK

Outcome = Literal["created", "updated", "unchanged"]

#: Domain field paths -> CSV columns.
_COLUMN_OF = {
    "price.net": "price_net",
    "net": "price_net",
    "content": "content_quantity",
    "content.quantity": "content_quantity",
    "content.unit": "content_unit",
}
_FIXED = ("parent_sku", "variant_attributes", "content_quantity", "content_unit")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[CellError] = field(default_factory=list)

    @property
    def failed_rows(self) -> int:
        return len({error.row for error in self.errors})


def _command(values: dict[str, Any]) -> CreateProduct:
    return CreateProduct(
        sku=values["sku"],
        name=values["name"],
        price_net=values["price_net"],
        currency=values.get("currency") or "EUR",
        vat_class=values["vat_class"],
        stock=values.get("stock") or 0,
        description=values.get("description"),
        gtin=values.get("gtin"),
        content_quantity=values.get("content_quantity"),
        content_unit=values.get("content_unit"),
        name_en=values.get("name_en"),
        description_en=values.get("description_en"),
        brand=values.get("brand"),
        categories=values.get("categories") or [],
        attributes=values.get("attributes") or {},
        parent_sku=values.get("parent_sku"),
        variant_attributes=values.get("variant_attributes"),
        weight_grams=values.get("weight_grams"),
    )


async def import_row(tx: Transaction, row: ProductRow) -> Outcome:
    values = row.values
    if (values.get("currency") or "EUR") != "EUR":
        raise ProductError("currency", "only EUR")
    doc = await tx.db[PRODUCTS].find_one({"_id": values["sku"]}, session=tx.session)
    if doc is None:
        await add_product(tx, _command(values))
        return "created"
    product = from_document(doc)
    for name in _FIXED:
        if name in values and values[name] != getattr(product, name):
            raise ProductError(name, "set when the product is created; cannot change by import")
    changes: dict[str, Any] = {name: values[name] for name in DESCRIPTIVE_FIELDS if name in values}
    if "categories" in changes:
        changes["categories"] = changes["categories"] or []
    if "attributes" in changes:
        changes["attributes"] = changes["attributes"] or {}
    changed = await apply_update(tx, product, changes)
    repriced = await apply_price(tx, product, values["price_net"], values["vat_class"])
    return "updated" if changed or repriced else "unchanged"


async def import_rows(
    store: Store, rows: list[ProductRow], errors: list[CellError]
) -> ImportReport:
    """Import every parsed row on its own; ``errors`` (from parsing) go into the report."""
    report = ImportReport(errors=list(errors))
    for row in rows:

        async def work(tx: Transaction, row: ProductRow = row) -> Outcome:
            return await import_row(tx, row)

        try:
            outcome = await store.transaction(work)
        except ProductError as exc:
            column = _COLUMN_OF.get(exc.field, exc.field)
            report.errors.append(CellError(row.row, column, str(exc)))
            continue
        except SkuTaken as exc:
            report.errors.append(CellError(row.row, "sku", str(exc)))
            continue
        except GtinTaken as exc:
            report.errors.append(CellError(row.row, "gtin", str(exc)))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    report.errors.sort(key=lambda e: e.row)
    return report


async def export_records(db: AsyncDatabase[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every product as a CSV record; parents before variants, so the file imports as is.

    ``stock`` is what is on hand in all warehouses (an import puts it in the default one).
    """
    on_hand: dict[str, int] = {}
    async for level in db[STOCK].find({}, {"sku": 1, "on_hand": 1}):
        on_hand[level["sku"]] = on_hand.get(level["sku"], 0) + level["on_hand"]
    records = []
    cursor = db[PRODUCTS].find().sort([("parent_sku", 1), ("_id", 1)])
    async for doc in cursor:
        product = from_document(doc)
        records.append(
            {
                "sku": product.sku,
                "name": product.name,
                "name_en": product.name_en,
                "description": product.description,
                "description_en": product.description_en,
                "brand": product.brand,
                "gtin": product.gtin,
                "price_net": product.price_net,
                "currency": product.currency,
                "vat_class": product.vat_class,
                "stock": on_hand.get(product.sku, 0),
                "categories": product.categories or None,
                "attributes": product.attributes or None,
                "parent_sku": product.parent_sku,
                "variant_attributes": product.variant_attributes,
                "weight_grams": product.weight_grams,
                "content_quantity": product.content_quantity,
                "content_unit": product.content_unit,
            }
        )
    return records
