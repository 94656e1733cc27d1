"""Country codes, VAT ids and coupon codes at placement."""

from __future__ import annotations

import pytest
from kontor_orders.domain.parties import (
    ISO_COUNTRIES,
    normalize_coupon_codes,
    normalize_vat_id,
    vat_id_problem,
)


def test_iso_countries_are_the_assigned_alpha_2_codes() -> None:
    assert len(ISO_COUNTRIES) == 249
    assert {"DE", "AT", "CH", "GB", "NL"} <= ISO_COUNTRIES
    assert not {"XX", "EU", "UK", "EL"} & ISO_COUNTRIES


@pytest.mark.parametrize(
    "vat_id", ["DE136695976", "ATU13585627", "FR40303265045", "NL004495445B01", "EL094259216"]
)
def test_well_formed_vat_ids(vat_id: str) -> None:
    assert vat_id_problem(vat_id) is None


@pytest.mark.parametrize(
    "vat_id", ["DE123456789", "ATU12345678", "FR12303265045", "NL123456789B01", "EL123456789"]
)
def test_vat_ids_with_a_wrong_check_digit_are_refused(vat_id: str) -> None:
    # issue 10 point 4: the format alone let ATU12345678 through; python-stdnum's
    # check digits refuse it (whether it is assigned is for VIES)
    problem = vat_id_problem(vat_id)
    assert problem is not None and "check digit" in problem


@pytest.mark.parametrize(
    ("vat_id", "reason"),
    [
        ("DE12345678", "DE followed by 9 digits"),
        ("DE1234567890", "DE followed by 9 digits"),
        ("DEABCDEFGHI", "DE followed by 9 digits"),
        ("GR123456789", "not an EU VAT id prefix"),
        ("US123456789", "not an EU VAT id prefix"),
        ("AT12345678", "not a valid AT VAT id"),
    ],
)
def test_malformed_vat_ids(vat_id: str, reason: str) -> None:
    problem = vat_id_problem(vat_id)
    assert problem is not None and reason in problem


def test_vat_id_is_normalized_before_checking() -> None:
    assert normalize_vat_id(" de 123.456-789 ") == "DE123456789"


def test_coupon_codes_are_upper_cased_and_unique() -> None:
    assert normalize_coupon_codes(["summer10", "SUMMER10", " free-ship "]) == [
        "SUMMER10",
        "FREE-SHIP",
    ]


@pytest.mark.parametrize("code", ["", "ab", "x" * 33, "10 % off", "-LEADING"])
def test_bad_coupon_codes(code: str) -> None:
    with pytest.raises(ValueError, match="not a coupon code"):
        normalize_coupon_codes([code])
