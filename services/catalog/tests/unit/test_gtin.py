"""GTIN check digits for every length GS1 defines."""

from __future__ import annotations

import pytest
from kontor_catalog.domain.gtin import gtin_check_digit, gtin_problem


@pytest.mark.parametrize(
    "gtin",
    [
        "4006381333931",  # EAN-13 (Stabilo)
        "96385074",  # GTIN-8
        "036000291452",  # UPC-A
        "10614141000415",  # GTIN-14 (GS1 example)
        "4000417025005",
    ],
)
def test_valid_gtins(gtin: str) -> None:
    assert gtin_problem(gtin) is None


@pytest.mark.parametrize(
    ("gtin", "why"),
    [
        ("4006381333932", "check digit should be 1"),
        ("96385075", "check digit should be 4"),
        ("036000291453", "check digit should be 2"),
        ("400638133393", "check digit"),  # 12 digits, wrong
        ("4006381", "8, 12, 13 or 14 digits"),
        ("400638133393100", "8, 12, 13 or 14 digits"),
        ("40063813339x1", "digits only"),
        ("\uff14" * 13, "digits only"),  # full-width digits
        ("", "digits only"),
    ],
)
def test_invalid_gtins(gtin: str, why: str) -> None:
    problem = gtin_problem(gtin)
    assert problem is not None
    assert why in problem


def test_check_digit_of_zeros_is_zero() -> None:
    assert gtin_check_digit("0000000") == 0
