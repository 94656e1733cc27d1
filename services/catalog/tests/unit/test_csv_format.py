"""The CSV format: German decimals, BOM, lists, per-cell errors with row and column."""

from __future__ import annotations

from decimal import Decimal

import pytest
from kontor_catalog.domain.csv_format import (
    BOM,
    CellError,
    CsvFileError,
    decode,
    neutralise,
    parse_csv,
    parse_decimal,
    restore,
    write_csv,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [("19,99", "19.99"), ("19.99", "19.99"), ("1.234,56", "1234.56"), ("7", "7"), ("0,5", "0.5")],
)
def test_decimals_german_or_plain(text: str, value: str) -> None:
    assert parse_decimal(text) == Decimal(value)


@pytest.mark.parametrize("text", ["-1", "1,2,3", "12.34,5", "1e3", "", "abc", "1.234.5"])
def test_not_decimals(text: str) -> None:
    with pytest.raises(ValueError):
        parse_decimal(text)


def test_rows_parse_with_bom_lists_and_vat_rates() -> None:
    text = (
        BOM + "SKU;name;price_net;vat_class;categories;attributes;stock\r\n"
        "KAFFEE-1;Espresso Crème;6,99;7;kaffee|bio;roast=dark|origin=Brasilien;12\r\n"
        "\r\n"
        "TEE-1;Tee;3.50;standard;;;\r\n"
    )
    rows, errors = parse_csv(text)
    assert errors == []
    assert [r.row for r in rows] == [2, 4]
    assert rows[0].values == {
        "sku": "KAFFEE-1",
        "name": "Espresso Crème",
        "price_net": Decimal("6.99"),
        "vat_class": "reduced",
        "categories": ["kaffee", "bio"],
        "attributes": {"roast": "dark", "origin": "Brasilien"},
        "stock": 12,
    }
    assert rows[1].values["categories"] is None
    assert rows[1].values["stock"] is None


def test_each_bad_cell_is_reported_with_row_and_column() -> None:
    text = (
        "sku;name;price_net;vat_class;stock;attributes\n"
        "A;Apfel;1,00;standard;2;\n"
        "B;;zwei;standard;-1;farbe\n"
        "C;Birne;1,00\n"
    )
    rows, errors = parse_csv(text)
    assert [r.values["sku"] for r in rows] == ["A"]
    assert [(e.row, e.column) for e in errors] == [
        (3, "name"),
        (3, "price_net"),
        (3, "stock"),
        (3, "attributes"),
        (4, None),
    ]
    assert errors[0] == CellError(3, "name", "required")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("sku;name;price_net\n", "missing columns: vat_class"),
        ("sku;name;price_net;vat_class;colour\n", "unknown columns: colour"),
        ("sku;name;price_net;vat_class;name\n", "twice"),
    ],
)
def test_broken_files(text: str, message: str) -> None:
    with pytest.raises(CsvFileError, match=message):
        parse_csv(text)


def test_decode_refuses_latin1_and_drops_the_bom() -> None:
    assert decode((BOM + "sku").encode()) == "sku"
    with pytest.raises(CsvFileError, match="UTF-8"):
        decode("Größe".encode("latin-1"))


def test_written_csv_reads_back_the_same() -> None:
    record = {
        "sku": "KAFFEE-1",
        "name": 'Espresso "Crème"; 1 kg',
        "price_net": Decimal("17.66"),
        "vat_class": "reduced",
        "categories": ["kaffee", "bio"],
        "attributes": {"roast": "dark"},
        "stock": 3,
        "content_quantity": Decimal("1"),
        "content_unit": "kg",
    }
    text = write_csv([record])
    assert text.startswith(BOM + "sku;name;")
    assert "17,66" in text
    rows, errors = parse_csv(text)
    assert errors == []
    parsed = {k: v for k, v in rows[0].values.items() if v is not None}
    assert parsed == record


@pytest.mark.parametrize(
    "text", ["=1+1", "+49", "-5", "@SUM(A1)", "\tx", "\rx", "'=x", "'quoted", "''"]
)
def test_formula_starts_are_neutralised_and_restored_exactly(text: str) -> None:
    cell = neutralise(text)
    assert cell.startswith("'")
    assert restore(cell) == text


@pytest.mark.parametrize("text", ["Espresso", "19,99", "a=b", "x'y", "'plain"])
def test_other_cells_pass_unchanged_on_import(text: str) -> None:
    if not text.startswith("'"):
        assert neutralise(text) == text
    assert restore(text) == text
