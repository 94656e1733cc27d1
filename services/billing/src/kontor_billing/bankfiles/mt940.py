"""MT940 (SWIFT customer statement, in the German banks' layout) by mt-940.

The German layout puts the booking's details into ``:86:`` sub-fields: ``?00`` posting
text, ``?20``-``?29`` the purpose (with SEPA's ``EREF+``/``SVWZ+`` keywords), ``?30``
BIC, ``?31`` IBAN, ``?32``/``?33`` name. mt-940 splits them (all its opt-in fixes on:
``?31`` as the IBAN, signed reversals, details of any length, BOM stripped). ``:25:`` is
``BLZ/account`` or an IBAN; a BLZ and account number become the IBAN (schwifty).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from kontor_servicekit.domain_errors import Invalid

from kontor_billing.domain.bank_statements import (
    Balance,
    ParsedStatement,
    StatementLine,
    reference_or_none,
)

_BLZ_ACCOUNT = re.compile(r"^(\d{8})/(\d{1,10})$")


def account_iban(identification: str) -> str:
    """The IBAN of an MT940 ``:25:`` account identification."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    value = identification.strip().replace(" ", "")
    blz_account = _BLZ_ACCOUNT.match(value)
    try:
        if blz_account:
            bank_code, account = blz_account.groups()
            return str(IBAN.generate("DE", bank_code=bank_code, account_code=account).compact)
        return str(IBAN(value).compact)
    except SchwiftyException as exc:
        raise Invalid(
            f"no IBAN for the account {identification!r}: {exc}", field=("file",)
        ) from exc


def _balance(data: dict[str, Any], *keys: str) -> Balance | None:
    for key in keys:
        balance = data.get(key)
        if balance is not None:
            return Balance(
                Decimal(balance.amount.amount),
                balance.amount.currency,
                date(*balance.date.timetuple()[:3]),
            )
    return None


def _line(data: dict[str, Any]) -> StatementLine:
    amount = Decimal(data["amount"].amount)
    booking = data.get("entry_date") or data.get("guessed_entry_date") or data["date"]
    code = data.get("transaction_code")
    return StatementLine(
        direction="credit" if amount > 0 else "debit",
        amount=abs(amount),
        currency=data["amount"].currency,
        booking_date=date(booking.year, booking.month, booking.day),
        value_date=date(data["date"].year, data["date"].month, data["date"].day),
        counterparty_name=data.get("applicant_name") or None,
        counterparty_iban=data.get("applicant_iban") or data.get("gvc_applicant_iban") or None,
        remittance=(data.get("purpose") or data.get("transaction_details") or "").strip(),
        end_to_end_id=reference_or_none(data.get("end_to_end_reference")),
        bank_reference=reference_or_none(data.get("bank_reference")),
        bank_code=f"GVC {code}" if code else None,
    )


def parse_mt940(raw: bytes) -> list[ParsedStatement]:
    import mt940

    try:
        blocks = mt940.parse_statements(raw, options=mt940.Options.all())
    except (ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise Invalid(f"not a readable MT940 statement: {exc}", field=("file",)) from exc
    found = []
    for block in blocks:
        data = block.data
        if "account_identification" not in data:
            continue
        opening = _balance(data, "final_opening_balance", "intermediate_opening_balance")
        closing = _balance(data, "final_closing_balance", "intermediate_closing_balance")
        lines = tuple(_line(t.data) for t in block)
        number = data.get("statement_number")
        either = closing or opening
        reference = data.get("transaction_reference", "")
        sequence = data.get("sequence_number")
        found.append(
            ParsedStatement(
                format="mt940",
                account_iban=account_iban(str(data["account_identification"])),
                currency=either.currency if either else "",
                lines=lines,
                statement_id=f"{reference}:{number or ''}/{sequence or ''}",
                sequence_number=number,
                opening=opening,
                closing=closing,
            )
        )
    if not found:
        raise Invalid("an MT940 file without a statement (:25: account)", field=("file",))
    return found
