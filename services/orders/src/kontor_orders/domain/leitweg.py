"""The Leitweg-ID of a German public-sector buyer (XRechnung's Buyer reference, BT-10).

Format (KoSIT, "Formatspezifikation Leitweg-ID" 2.0.2): coarse address of 2 to 12 digits,
an optional fine address of up to 30 letters or digits, and two check digits, joined by
hyphens: ``04011000-12345-03``. The check digits follow ISO/IEC 7064 MOD 97-10 over the
ID without hyphens and check digits (letters count 10 to 35, as in an IBAN).
"""

from __future__ import annotations

import re

LEITWEG_ID = re.compile(r"^(\d{2,12})(?:-([0-9A-Za-z]{1,30}))?-(\d{2})$")


def check_digits(body: str) -> str:
    digits = "".join(str(int(c, 36)) for c in body.upper())
    return f"{98 - int(digits + '00') % 97:02d}"


def leitweg_id_problem(value: str) -> str | None:
    """None for a well-formed Leitweg-ID with correct check digits, else what is wrong."""
    match = LEITWEG_ID.match(value)
    if match is None:
        return (
            "a Leitweg-ID is 2-12 digits, an optional part of up to 30 letters or digits "
            "and 2 check digits, joined by hyphens (e.g. 04011000-12345-03)"
        )
    coarse, fine, given = match.groups()
    expected = check_digits(coarse + (fine or ""))
    if given != expected:
        return f"the check digits of this Leitweg-ID should be {expected}"
    return None
