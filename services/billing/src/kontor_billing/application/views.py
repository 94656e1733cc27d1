"""What billing's read side answers with (built in ``store/queries.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from kontor_servicekit.domain_errors import Invalid

from kontor_billing.domain.audit import BrokenLink
from kontor_billing.domain.invoice import Invoice

Status = Literal["issued", "cancelled", "corrected"]
DocumentStatus = Literal["pending", "rendered", "failed"]
"""Its PDF and XML: ``pending`` (checked when issued, made on the first request),
``rendered`` (stored, always served as they are), ``failed`` (refused; ``rule_ids``)."""


@dataclass(frozen=True)
class InvoiceFilter:
    kind: str = "invoice"
    statuses: tuple[Status, ...] = ()
    issued_from: date | None = None
    issued_to: date | None = None
    customer_email: str | None = None
    order_id: str | None = None
    issued_after: datetime | None = None
    """Only documents issued after this moment (a search for an erased buyer, ADR 0075)."""

    def __post_init__(self) -> None:
        if self.issued_from and self.issued_to and self.issued_to < self.issued_from:
            raise Invalid("to must not be before from", field=("to",), location="query")


@dataclass(frozen=True)
class Reference:
    number: str
    kind: str
    issue_date: str


@dataclass(frozen=True)
class InvoiceView:
    """A document with what is known about it now: its status and what refers to it.

    The status is not stored on the document (issued documents never change): an
    invoice is ``cancelled`` when a cancellation refers to it, ``corrected`` when a
    correction does, else ``issued``.
    """

    invoice: Invoice
    status: Status
    references: list[Reference]
    document_status: DocumentStatus = "pending"
    rule_ids: tuple[str, ...] = ()
    """For ``failed``: the e-invoice rules its documents broke when last rendered."""


@dataclass(frozen=True)
class InvoicePage:
    items: list[InvoiceView]
    total: int


@dataclass(frozen=True)
class ChainReport:
    chain: str
    entries: int
    broken: BrokenLink | None
