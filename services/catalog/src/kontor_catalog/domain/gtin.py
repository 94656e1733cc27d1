"""GTIN (EAN/UPC) check digits: GTIN-8, GTIN-12 (UPC-A), GTIN-13 (EAN-13), GTIN-14."""

from __future__ import annotations

GTIN_LENGTHS = (8, 12, 13, 14)


def gtin_check_digit(body: str) -> int:
    """The GS1 check digit of ``body`` (all digits but the last).

    From the right, digits are weighted 3, 1, 3, 1, ...; the check digit brings the
    weighted sum up to the next multiple of ten.
    """
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def gtin_problem(gtin: str) -> str | None:
    """Why ``gtin`` is not a valid GTIN, or None if it is."""
    if not gtin.isascii() or not gtin.isdigit():
        return "digits only"
    if len(gtin) not in GTIN_LENGTHS:
        return "8, 12, 13 or 14 digits"
    if gtin_check_digit(gtin[:-1]) != int(gtin[-1]):
        return f"check digit should be {gtin_check_digit(gtin[:-1])}"
    return None
