"""Import of products from CSV: the whole file in one unit of work, or nothing.

Every row is checked with the API's own rules (the route passes them in as
``check``: ``POST /products``'s request model, not a copy), then against what is
stored (categories, parents, GTINs, fixed fields), and every bad row is reported with
its row number, column and message. Only a file without any bad row is applied, in one
transaction; a file with one is applied not at all.

A row for a new SKU creates the product (ProductCreated, its stock on hand in the
default warehouse). A row for an existing SKU updates its descriptive data
(ProductUpdated) and price (ProductPriceChanged); its ``stock`` cell is ignored
(stock changes through receipts and counts), and the fields fixed at creation
(parent_sku, variant_attributes, content) must match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
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
    applied: bool = True
    """False: the file had bad rows and nothing of it was applied."""

    @property
    def failed_rows(self) -> int:
        return len({error.row for error in self.errors})


class RowInvalid(Exception):
    """A row the API's rules refuse: (column, message) pairs."""

    def __init__(self, problems: list[tuple[str | None, str]]) -> None:
        super().__init__(problems)
        self.problems = problems


RowCheck = Callable[[dict[str, Any]], CreateProduct]
"""The API's validation of a product, applied to a row's parsed cells (raises RowInvalid)."""


class _Refused(Exception):
    """Rolls the import's unit back; carries the report of every bad row."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("import refused")
        self.report = report


async def import_row(
    uow: CatalogUnitOfWork, row: ProductRow, command: CreateProduct, now: datetime
) -> Outcome:
    """Apply one checked row (``command``; ``row.values`` names the file's columns)."""
    values = {name: getattr(command, name) for name in row.values}
    product = await uow.products.get(command.sku)
    if command.gtin is not None and await uow.products.gtin_holder(
        command.gtin, other_than=command.sku
    ):
        raise GtinTaken(command.gtin)  # checked by a read: a failed write would end the unit
    if product is None:
        await add_product(uow, command, now)
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
    transactor: Transactor[CatalogUnitOfWork], data: bytes, *, check: RowCheck, clock: Clock
) -> ImportReport:
    """Import a CSV file; one that cannot be read at all (encoding, header) is refused."""
    rows, errors = parse_csv(decode(data))
    return await import_rows(transactor, rows, errors, check=check, clock=clock)


async def import_rows(
    transactor: Transactor[CatalogUnitOfWork],
    rows: list[ProductRow],
    errors: list[CellError],
    *,
    check: RowCheck,
    clock: Clock,
) -> ImportReport:
    """Check every row, then apply all of them in one unit, or none if any is bad.

    ``errors`` (from parsing) go into the report. Rows that pass ``check`` are still run
    against the stored data, in the unit, so their conflicts are reported too; the unit
    is then rolled back.
    """
    bad = list(errors)
    checked: list[tuple[ProductRow, CreateProduct]] = []
    for row in rows:
        try:
            checked.append((row, check(row.values)))
        except RowInvalid as invalid:
            bad.extend(CellError(row.row, column, message) for column, message in invalid.problems)

    async def work(uow: CatalogUnitOfWork) -> ImportReport:
        report = ImportReport(errors=list(bad))
        for row, command in checked:
            try:
                outcome = await import_row(uow, row, command, clock())
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
        if report.errors:
            raise _Refused(report)
        return report

    try:
        report = await transactor.run(work)
    except _Refused as refused:
        report = replace(refused.report, created=0, updated=0, unchanged=0, applied=False)
    report.errors.sort(key=lambda e: e.row)
    return report
