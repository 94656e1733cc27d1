"""Money on the wire is Decimal in, string out; floats and non-finite values never get in."""

from decimal import Decimal

import pytest
from kontor_contracts.money import Amount, Money, VatRate, quantize
from pydantic import TypeAdapter, ValidationError

pytestmark = pytest.mark.unit

amount = TypeAdapter(Amount)
vat_rate = TypeAdapter(VatRate)


@pytest.mark.parametrize("value", ["19.99", 19, Decimal("19.99"), "-5", "0.000001"])
def test_amount_accepts_str_int_decimal(value: object) -> None:
    assert amount.validate_python(value) == Decimal(str(value))


@pytest.mark.parametrize(
    "value",
    [19.99, 1.0, True, "NaN", "Infinity", "-inf", "1e5", "19,99", " 19.99", "", None],
)
def test_amount_rejects_float_bool_nonfinite_and_odd_strings(value: object) -> None:
    with pytest.raises(ValidationError):
        amount.validate_python(value)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_amount_rejects_non_finite_decimal(value: Decimal) -> None:
    with pytest.raises(ValidationError):
        amount.validate_python(value)


def test_json_number_with_fraction_is_rejected_but_integer_accepted() -> None:
    with pytest.raises(ValidationError):
        Money.model_validate_json('{"amount": 19.99, "currency": "EUR"}')
    assert Money.model_validate_json('{"amount": 20, "currency": "EUR"}').amount == Decimal(20)


def test_money_serializes_amount_as_string() -> None:
    money = Money(amount="19.99", currency="EUR")
    assert money.model_dump_json() == '{"amount":"19.99","currency":"EUR"}'
    assert money.model_dump(mode="json") == {"amount": "19.99", "currency": "EUR"}
    assert money.model_dump()["amount"] == Decimal("19.99")


def test_serialization_never_uses_exponent_notation() -> None:
    assert amount.dump_json(Decimal("1E+2")) == b'"100"'
    assert amount.dump_json(Decimal("1E-7")) == b'"0.0000001"'


def test_amount_json_schema_is_a_decimal_string() -> None:
    assert amount.json_schema() == {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
    assert amount.json_schema(mode="serialization") == amount.json_schema()


@pytest.mark.parametrize("code", ["eur", "EU", "EURO", "€"])
def test_currency_must_be_three_uppercase_letters(code: str) -> None:
    with pytest.raises(ValidationError):
        Money(amount="1", currency=code)


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        ("2.345", "EUR", "2.35"),  # half up, not banker's rounding
        ("2.344", "EUR", "2.34"),
        ("-2.345", "EUR", "-2.35"),
        ("0.125", "USD", "0.13"),
        ("1234.5", "JPY", "1235"),
        ("7.005", "XYZ", "7.01"),  # unknown currency: two places
        ("7.005", "eur", "7.01"),
    ],
)
def test_quantize_rounds_half_up_to_minor_units(value: str, currency: str, expected: str) -> None:
    result = quantize(Decimal(value), currency)
    assert result == Decimal(expected)
    assert str(result) == expected


def test_vat_rate_is_a_fraction_serialized_as_string() -> None:
    assert vat_rate.validate_python("0.19") == Decimal("0.19")
    assert vat_rate.dump_json(Decimal("0.07")) == b'"0.07"'
    for bad in ["19", "-0.07", "1.5", 0.19]:
        with pytest.raises(ValidationError):
            vat_rate.validate_python(bad)
    assert vat_rate.validate_python("0") == Decimal(0)
    assert vat_rate.validate_python(1) == Decimal(1)
