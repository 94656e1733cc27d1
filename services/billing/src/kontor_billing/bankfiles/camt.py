"""CAMT.053 (ISO 20022 Bank-to-Customer Statement) by pycamt.

pycamt finds the elements by local path in the document's own namespace, so one reader
covers camt.053.001.02 up to .13 (the versions differ in namespace and in where names
sit: ``Dbtr/Nm`` in .02, ``Dbtr/Pty/Nm`` from .08 on; pycamt searches both). What it does
not give is read here from its lxml tree: the statement's Id and sequence number, and
the opening balance German banks send as ``PRCD`` (previous closing) instead of ``OPBD``;
balances are read again as Decimal (pycamt signs a debit balance through float).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from kontor_servicekit.domain_errors import Invalid

from kontor_billing.domain.bank_statements import (
    Balance,
    ParsedStatement,
    StatementFormat,
    StatementLine,
    reference_or_none,
)

OPENING = ("OPBD", "PRCD")
CLOSING = ("CLBD",)


def _decimal(text: str | None, what: str) -> Decimal:
    try:
        return Decimal((text or "").strip())
    except InvalidOperation as exc:
        raise Invalid(f"not an amount in {what}: {text!r}", field=("file",)) from exc


def _day(text: str | None, what: str) -> date:
    try:
        return date.fromisoformat((text or "")[:10])
    except ValueError as exc:
        raise Invalid(f"not a date in {what}: {text!r}", field=("file",)) from exc


def _path(path: str) -> str:
    """``Acct/Id/IBAN`` in any namespace (every camt.053 version has its own)."""
    return "/".join("{*}" + step for step in path.split("/"))


def _text(element: Any, path: str) -> str | None:
    found = element.find(_path(path))
    return None if found is None or found.text is None else str(found.text).strip()


def _balance(stmt: Any, codes: tuple[str, ...]) -> Balance | None:
    for code in codes:
        for bal in stmt.findall(_path("Bal")):
            if _text(bal, "Tp/CdOrPrtry/Cd") != code:
                continue
            amount_element = bal.find(_path("Amt"))
            amount = _decimal(amount_element.text, f"balance {code}")
            if _text(bal, "CdtDbtInd") == "DBIT":
                amount = -amount
            on = _text(bal, "Dt/Dt") or _text(bal, "Dt/DtTm")
            return Balance(amount, amount_element.get("Ccy", ""), _day(on, f"balance {code}"))
    return None


def _line(row: dict[str, Any]) -> StatementLine:
    credit = row.get("CreditDebitIndicator") == "CRDT"
    if not credit and row.get("CreditDebitIndicator") != "DBIT":
        raise Invalid("an entry without CRDT/DBIT", field=("file",))
    remittance = " ".join(
        part
        for part in (
            row.get("RemittanceInformationFull") or row.get("RemittanceInformation"),
            row.get("AdditionalRemittanceInformation"),
        )
        if part
    )
    codes = [row.get(k) for k in ("BankTransactionCode", "TransactionFamilyCode")]
    codes.append(row.get("TransactionSubFamilyCode"))
    return StatementLine(
        direction="credit" if credit else "debit",
        amount=abs(_decimal(row.get("Amount"), "an entry")),
        currency=row.get("Currency") or "",
        booking_date=_day(row.get("BookingDate"), "an entry's BookgDt"),
        value_date=_day(row["ValueDate"], "an entry's ValDt") if row.get("ValueDate") else None,
        counterparty_name=row.get("DebtorName") if credit else row.get("CreditorName"),
        counterparty_iban=row.get("DebtorIBAN") if credit else row.get("CreditorIBAN"),
        remittance=remittance or row.get("AdditionalEntryInformation") or "",
        end_to_end_id=reference_or_none(row.get("EndToEndId")),
        bank_reference=reference_or_none(row.get("TransactionID")),
        bank_code="/".join(c for c in codes if c) or None,
    )


def parse_camt053(raw: bytes) -> list[ParsedStatement]:
    from lxml import etree
    from pycamt.parser import Camt053ParseError, Camt053Parser

    try:
        parser = Camt053Parser(raw)
        rows = parser.get_transactions()
    except (etree.XMLSyntaxError, Camt053ParseError, AttributeError) as exc:
        raise Invalid(f"not a readable CAMT.053 statement: {exc}", field=("file",)) from exc
    version = str(parser.version)
    if not version.startswith("camt.053.001."):
        raise Invalid("not a CAMT.053 statement (camt.053.001.02 or later)", field=("file",))
    stmts = parser.tree.findall(".//" + _path("Stmt"))
    # pycamt's rows name the account; the statements are grouped by it
    by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_account[row.get("AccountIBAN") or ""].append(row)
    found = []
    for stmt in stmts:
        iban = _text(stmt, "Acct/Id/IBAN")
        if iban is None:
            raise Invalid("a statement without the account's IBAN", field=("file",))
        own = by_account.pop(iban, [])
        booked = [r for r in own if (r.get("Status") or "BOOK") == "BOOK"]
        found.append(
            ParsedStatement(
                format=cast(StatementFormat, version),
                account_iban=iban,
                currency=_text(stmt, "Acct/Ccy") or (booked[0]["Currency"] if booked else ""),
                lines=tuple(_line(r) for r in booked),
                statement_id=_text(stmt, "Id"),
                sequence_number=_text(stmt, "ElctrncSeqNb") or _text(stmt, "LglSeqNb"),
                opening=_balance(stmt, OPENING),
                closing=_balance(stmt, CLOSING),
                skipped=len(own) - len(booked),
            )
        )
    if not found:
        raise Invalid("a CAMT.053 file without a statement", field=("file",))
    return found
