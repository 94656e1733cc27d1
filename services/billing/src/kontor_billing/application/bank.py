"""The seller's bank account, checked the way banks check it (schwifty: the IBAN's
country format and check digits, the BIC's structure and country)."""

from __future__ import annotations

from typing import Literal


def compact_bank_code(kind: Literal["iban", "bic"], value: str) -> str:
    """``value`` in its compact form; ValueError naming what is wrong with it."""
    # imported on first use: schwifty loads its bank registry at import (start time)
    from schwifty import BIC, IBAN
    from schwifty.exceptions import SchwiftyException

    code = IBAN if kind == "iban" else BIC
    try:
        return str(code(value).compact)
    except SchwiftyException as exc:
        raise ValueError(f"not a valid {kind.upper()}: {exc}") from exc
