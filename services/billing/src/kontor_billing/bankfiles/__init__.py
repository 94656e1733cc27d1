"""Bank statement files read by kept libraries (issue 12, ADR 0030): CAMT.053 with
pycamt (over lxml, entities and network off), MT940 with mt-940. :func:`parse_statement`
tells them apart by content, never by file name."""

from __future__ import annotations

from kontor_servicekit.domain_errors import Invalid

from kontor_billing.domain.bank_statements import ParsedStatement

MAX_STATEMENT_BYTES = 10 * 1024 * 1024


def detect(raw: bytes) -> str | None:
    """``camt`` or ``mt940`` by the file's content, None for anything else."""
    head = raw[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return "camt" if b"camt.053.001." in raw[:4096] else None
    if b":20:" in head and (b":25:" in raw and b":60" in raw):
        return "mt940"
    return None


def parse_statement(raw: bytes) -> list[ParsedStatement]:
    """Every account statement in the file (CAMT may carry several ``Stmt``, MT940
    several ``:20:`` blocks); Invalid (field ``file``) for what is neither."""
    if not raw:
        raise Invalid("the file is empty", field=("file",))
    if len(raw) > MAX_STATEMENT_BYTES:
        raise Invalid(f"a statement file is at most {MAX_STATEMENT_BYTES} bytes", field=("file",))
    kind = detect(raw)
    if kind == "camt":
        from kontor_billing.bankfiles.camt import parse_camt053

        return parse_camt053(raw)
    if kind == "mt940":
        from kontor_billing.bankfiles.mt940 import parse_mt940

        return parse_mt940(raw)
    raise Invalid(
        "not a bank statement: expected CAMT.053 (ISO 20022 XML) or MT940", field=("file",)
    )
