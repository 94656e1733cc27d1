"""Import of products from CSV; each imported row is its own unit of work.

A row for a new SKU creates the product (ProductCreated, its stock on hand in the
default warehouse). A row for an existing SKU updates its descriptive data
(ProductUpdated) and price (ProductPriceChanged) in one transaction; its ``stock``
cell is ignored (stock changes through receipts and counts), and the fields fixed at
creation (parent_sku, variant_attributes, content) must match. A row that fails
changes nothing; the others are imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_catalog.application.products import CreateProduct, add_product, describe, save
from kontor_catalog.application.unit_of_work import CatalogUnitOfWork
from kontor_catalog.domain.csv_format import CellError, ProductRow, decode, parse_csv
from kontor_catalog.domain.errors import GtinTaken, ParentHasStock, ProductError, SkuTaken
from kontor_catalog.domain.product import DESCRIPTIVE_FIELDS

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


async def import_row(uow: CatalogUnitOfWork, row: ProductRow, now: datetime) -> Outcome:
    values = row.values
    if (values.get("currency") or "EUR") != "EUR":
        raise ProductError("currency", "only EUR")
    product = await uow.products.get(values["sku"])
    if product is None:
        await add_product(uow, _command(values), now)
        return "created"
    for name in _FIXED:
        if name in values and values[name] != getattr(product, name):
            raise ProductError(name, "set when the product is created; cannot change by import")
    changes: dict[str, Any] = {name: values[name] for name in DESCRIPTIVE_FIELDS if name in values}
    if "categories" in changes:
        changes["categories"] = changes["categories"] or []
    if "attributes" in changes:
        changes["attributes"] = changes["attributes"] or {}
    await describe(uow, product, changes)
    product.change_price(values["price_net"], values["vat_class"], now)
    changed = bool(product.recorded_events)
    await save(uow, product)
    return "updated" if changed else "unchanged"


def _column(exc: ProductError) -> str:
    dotted = ".".join(str(part) for part in exc.field or ())
    return _COLUMN_OF.get(dotted, dotted)


async def import_file(
    transactor: Transactor[CatalogUnitOfWork], data: bytes, *, clock: Clock
) -> ImportReport:
    """Import a CSV file; one that cannot be read at all (encoding, header) is refused."""
    rows, errors = parse_csv(decode(data))
    return await import_rows(transactor, rows, errors, clock=clock)


async def import_rows(
    transactor: Transactor[CatalogUnitOfWork],
    rows: list[ProductRow],
    errors: list[CellError],
    *,
    clock: Clock,
) -> ImportReport:
    """Import every parsed row in a unit of its own; ``errors`` (from parsing) go into the
    report. A row that is refused changes nothing."""
    report = ImportReport(errors=list(errors))
    for row in rows:

        async def work(uow: CatalogUnitOfWork, row: ProductRow = row) -> Outcome:
            return await import_row(uow, row, clock())

        try:
            outcome = await transactor.run(work)
        except ProductError as exc:
            report.errors.append(CellError(row.row, _column(exc), exc.message))
            continue
        except SkuTaken as exc:
            report.errors.append(CellError(row.row, "sku", exc.message))
            continue
        except GtinTaken as exc:
            report.errors.append(CellError(row.row, "gtin", exc.message))
            continue
        except ParentHasStock as exc:
            report.errors.append(CellError(row.row, "parent_sku", exc.message))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    report.errors.sort(key=lambda e: e.row)
    return report
