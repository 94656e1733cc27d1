"""The catalog's CSV format for import and export, parsed and written without I/O.

Semicolon-separated, UTF-8 (a byte order mark is accepted and written, so Excel
shows umlauts), a header row naming the columns in any order. Decimals may use a
German comma ("19,99", "1.234,56") or a point ("19.99"). Lists are separated by
"|": categories "kaffee|bio", attributes and variant attributes "key=value|key=value".
An empty cell is "no value". Row numbers count like a spreadsheet: the header is row 1.

CSV injection (OWASP): a spreadsheet runs a cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula. The export writes such a cell with a
leading apostrophe (``'=1+1``), which a spreadsheet shows as text and hides; a cell
that itself starts with an apostrophe gets one more, so the import can drop exactly
one apostrophe before any of these characters and the round trip is exact.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from kontor_servicekit.domain_errors import Invalid

from kontor_catalog.domain.product import Product

REQUIRED = ("sku", "name", "price_net", "vat_class")
COLUMNS = (
    "sku",
    "name",
    "name_en",
    "description",
    "description_en",
    "brand",
    "gtin",
    "price_net",
    "currency",
    "vat_class",
    "stock",
    "categories",
    "attributes",
    "parent_sku",
    "variant_attributes",
    "weight_grams",
    "content_quantity",
    "content_unit",
)
#: German spreadsheets write the VAT rate rather than the class.
VAT_ALIASES = {"19": "standard", "7": "reduced", "0": "zero"}

_GERMAN = re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$|^\d+,\d+$")
_PLAIN = re.compile(r"^\d+(\.\d+)?$")
BOM = "\ufeff"

#: What a spreadsheet would take for the start of a formula, plus the escape itself.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def neutralise(text: str) -> str:
    """A cell a spreadsheet shows as text: ``'`` before a formula start (OWASP)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def restore(text: str) -> str:
    """Undo :func:`neutralise`: drop one ``'`` that protects a formula start."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class CellError:
    row: int
    column: str | None
    message: str


class CsvFileError(Invalid, ValueError):
    """The file as a whole cannot be read (encoding, header): 422 at ``file``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field=("file",))


@dataclass
class ProductRow:
    row: int
    values: dict[str, Any] = field(default_factory=dict)
    """Column -> parsed value (None for an empty cell); only the file's columns."""


def parse_decimal(text: str) -> Decimal:
    text = text.strip()
    if _GERMAN.match(text):
        text = text.replace(".", "").replace(",", ".")
    elif not _PLAIN.match(text):
        raise ValueError(f"not a decimal number: {text!r} (e.g. 19,99 or 19.99)")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {text!r}") from None


def format_decimal(value: Decimal) -> str:
    """German notation without thousands separators: 1234,5 -> '1234,50' for money."""
    return format(value, "f").replace(".", ",")


def _pairs(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in text.split("|"):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"expected key=value pairs separated by |, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


def _int(text: str) -> int:
    if not text.strip().isdigit():
        raise ValueError(f"a whole number of at least 0, not {text!r}")
    return int(text)


PARSERS: dict[str, Any] = {
    "price_net": parse_decimal,
    "content_quantity": parse_decimal,
    "stock": _int,
    "weight_grams": _int,
    "categories": lambda t: [c.strip() for c in t.split("|") if c.strip()],
    "attributes": _pairs,
    "variant_attributes": _pairs,
    "vat_class": lambda t: VAT_ALIASES.get(t.strip().rstrip("%").strip(), t.strip()),
}


def decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CsvFileError(f"not UTF-8 (byte {exc.start})") from None
    return text.removeprefix(BOM)


def parse_csv(text: str) -> tuple[list[ProductRow], list[CellError]]:
    """Rows that parsed and the errors of those that did not (one row, all its errors)."""
    reader = csv.reader(io.StringIO(text.removeprefix(BOM)), delimiter=";")
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise CsvFileError("the file is empty; the first row names the columns") from None
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise CsvFileError(f"unknown columns: {', '.join(unknown)} (known: {', '.join(COLUMNS)})")
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise CsvFileError(f"missing columns: {', '.join(missing)}")
    if len(set(header)) != len(header):
        raise CsvFileError("a column is named twice")
    rows: list[ProductRow] = []
    errors: list[CellError] = []
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, e.g. at the end
        if len(cells) != len(header):
            errors.append(
                CellError(number, None, f"{len(cells)} cells, the header has {len(header)}")
            )
            continue
        row = ProductRow(number)
        row_errors = []
        for name, raw in zip(header, cells, strict=True):
            cell = restore(raw.strip())
            if not cell:
                if name in REQUIRED:
                    row_errors.append(CellError(number, name, "required"))
                row.values[name] = None
                continue
            try:
                parser = PARSERS.get(name)
                row.values[name] = parser(cell) if parser else cell
            except ValueError as exc:
                row_errors.append(CellError(number, name, str(exc)))
        if row_errors:
            errors.extend(row_errors)
        else:
            rows.append(row)
    return rows, errors


def write_csv(records: Iterable[Mapping[str, Any]]) -> str:
    """The CSV of ``records`` (column -> value), with BOM and every column."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for record in records:
        writer.writerow([_cell(record.get(name)) for name in COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, list):
        return neutralise("|".join(value))
    if isinstance(value, dict):
        return neutralise("|".join(f"{k}={v}" for k, v in value.items()))
    return neutralise(str(value))


def csv_record(product: Product, on_hand: int) -> dict[str, Any]:
    """A product as a row of the export (``stock``: on hand in all warehouses)."""
    return {
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
        "stock": on_hand,
        "categories": product.categories or None,
        "attributes": product.attributes or None,
        "parent_sku": product.parent_sku,
        "variant_attributes": product.variant_attributes,
        "weight_grams": product.weight_grams,
        "content_quantity": product.content_quantity,
        "content_unit": product.content_unit,
    }
