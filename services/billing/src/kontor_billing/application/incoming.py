"""Use cases of incoming invoices: receive a file, complete a plain PDF, approve, reject.

Receiving (``POST /incoming-invoices``): the same bytes twice (sha256) answer the first
record. Otherwise the file is read and judged off the event loop (lxml, Saxon), its
bytes go to the blob store unchanged (GoBD), and the record is added in a unit of work
that checks the sha256 again (a racing upload of the same file gets the first record,
its blob is removed) and emits ``IncomingInvoiceReceived``. A refused e-invoice is kept
too, with status ``refused``. If the unit of work fails, the stored bytes are removed:
no blob without its record.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from kontor_contracts.events.billing import IncomingInvoiceApproved, IncomingInvoiceReceived
from kontor_servicekit.blobs import BlobWriter
from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.uow import Transactor

from kontor_billing.application.bank import compact_bank_code
from kontor_billing.application.unit_of_work import BillingUnitOfWork
from kontor_billing.domain.incoming import (
    NOT_AN_E_INVOICE,
    Finding,
    IncomingApproved,
    IncomingInvoice,
    IncomingReceived,
    InvoiceFields,
    Status,
    ValidationReport,
    choose_account,
    duplicate_hints,
    with_finding,
    with_skonto,
)

if TYPE_CHECKING:
    from kontor_billing.documents.incoming_read import Read

MAX_INVOICE_BYTES = 10 * 1024 * 1024
ISO_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class IncomingFilter:
    """What ``GET /incoming-invoices`` narrows the list by."""

    statuses: tuple[Status, ...] = ()
    supplier: str | None = None  # part of the name (any case) or the VAT id
    due_before: date | None = None


@dataclass(frozen=True)
class IncomingPolicy:
    """Which expense account an approval books to when the approver names none."""

    default_account: str = "3400"  # SKR03 Wareneingang 19 % Vorsteuer
    supplier_accounts: Mapping[str, str] = field(default_factory=dict)


def read_and_check(data: bytes) -> tuple[Read, ValidationReport]:
    """What the file is and says, and its validation report (blocking: run in a thread)."""
    # imported here: factur-x and Saxon take a while to load, not at service start
    from kontor_billing.documents.incoming_check import check
    from kontor_billing.documents.incoming_read import read_upload

    read = read_upload(data)
    if read.xml is None or read.syntax is None:
        return read, NOT_AN_E_INVOICE
    report = check(read.xml, read.syntax, read.fields.specification)
    iban = read.fields.supplier.iban
    if iban:
        try:  # the payouts pay to it: say now if a bank would refuse it
            compact_bank_code("iban", iban)
        except ValueError as exc:
            report = with_finding(report, Finding("IBAN", "IBAN", str(exc), "warning"))
    return read, report


Judge = Callable[[bytes], "tuple[Read, ValidationReport]"]


@dataclass(frozen=True)
class Received:
    invoice: IncomingInvoice
    duplicate: bool


def _emit_recorded(uow: BillingUnitOfWork, invoice: IncomingInvoice) -> None:
    for recorded in invoice.pull_events():
        if isinstance(recorded, IncomingReceived):
            uow.emit(received_event(invoice), aggregate_id=invoice.id)
        elif isinstance(recorded, IncomingApproved):
            uow.emit(approved_event(invoice), aggregate_id=invoice.id)


def received_event(invoice: IncomingInvoice) -> IncomingInvoiceReceived:
    f = invoice.fields
    return IncomingInvoiceReceived(
        invoice_id=invoice.id,
        status=invoice.status,
        validation=invoice.report.outcome,
        format=invoice.format,
        sha256=invoice.sha256,
        received_at=invoice.received_at,
        number=f.number,
        supplier_name=f.supplier.name,
        supplier_vat_id=f.supplier.vat_id,
        issue_date=f.issue_date,
        due_date=f.due_date,
        currency=f.currency if f.currency and ISO_CURRENCY.fullmatch(f.currency) else None,
        gross_total=f.gross_total,
        amount_due=f.amount_due,
        rule_ids=invoice.report.rule_ids,
        duplicate_suspected=invoice.duplicate_suspected,
    )


def approved_event(invoice: IncomingInvoice) -> IncomingInvoiceApproved:
    f = invoice.fields
    skonto = f.skonto
    assert f.number and f.supplier.name and f.currency and f.amount_due is not None
    assert invoice.approved_account and invoice.approved_at and invoice.approved_by
    return IncomingInvoiceApproved(
        invoice_id=invoice.id,
        number=f.number,
        supplier_name=f.supplier.name,
        currency=f.currency,
        amount_due=f.amount_due,
        expense_account=invoice.approved_account,
        approved_at=invoice.approved_at,
        approved_by=invoice.approved_by,
        supplier_iban=f.supplier.iban,
        supplier_bic=f.supplier.bic,
        supplier_vat_id=f.supplier.vat_id,
        issue_date=f.issue_date,
        due_date=f.due_date,
        skonto_percent=skonto.percent if skonto else None,
        skonto_until=skonto.until if skonto else None,
        amount_after_skonto=f.amount_due - skonto.discount(f.amount_due) if skonto else None,
        net_total=f.net_total,
        vat_total=f.vat_total,
        gross_total=f.gross_total,
    )


async def _hints(uow: BillingUnitOfWork, fields: InvoiceFields, own_id: str) -> list[Any]:
    key = fields.supplier.key
    others = [] if key is None else await uow.incoming.of_supplier(key)
    return duplicate_hints(fields, [o for o in others if o.id != own_id])


async def receive_invoice(
    transactor: Transactor[BillingUnitOfWork],
    files: BlobWriter,
    *,
    data: bytes,
    filename: str,
    fields: InvoiceFields | None,
    new_id: Callable[[], str],
    clock: Clock,
    by: str | None,
    judge: Judge = read_and_check,
) -> Received:
    """Keep a supplier's invoice file; ``fields`` are a person's reading of a plain PDF."""
    sha256 = hashlib.sha256(data).hexdigest()

    async def first(uow: BillingUnitOfWork) -> IncomingInvoice | None:
        return await uow.incoming.by_sha256(sha256)

    known = await transactor.run(first)
    if known is not None:
        return Received(known, duplicate=True)
    read, report = await asyncio.to_thread(judge, data)
    given = read.fields if read.format != "pdf" else with_skonto(fields or InvoiceFields())
    file_id = await files.put(
        data,
        filename=filename,
        content_type=read.media_type,
        metadata={"sha256": sha256, "kind": "incoming-invoice"},
    )
    invoice_id = new_id()

    async def add(uow: BillingUnitOfWork) -> Received:
        again = await uow.incoming.by_sha256(sha256)
        if again is not None:
            return Received(again, duplicate=True)
        invoice = IncomingInvoice.receive(
            id=invoice_id,
            sha256=sha256,
            file_id=file_id,
            filename=filename,
            media_type=read.media_type,
            size=len(data),
            format=read.format,
            fields=given,
            report=report,
            duplicates=await _hints(uow, given, invoice_id),
            at=clock(),
            by=by,
        )
        await uow.incoming.add(invoice)
        _emit_recorded(uow, invoice)
        return Received(invoice, duplicate=False)

    try:
        received = await transactor.run(add)
    except BaseException:
        await files.delete(file_id)
        raise
    if received.duplicate:
        await files.delete(file_id)
    return received


async def _load(uow: BillingUnitOfWork, invoice_id: str) -> IncomingInvoice:
    invoice = await uow.incoming.get(invoice_id)
    if invoice is None:
        raise NotFound("incoming invoice", invoice_id)
    return invoice


async def enter_fields(
    transactor: Transactor[BillingUnitOfWork], invoice_id: str, fields: InvoiceFields
) -> IncomingInvoice:
    """A person's reading of a plain PDF (``PUT /incoming-invoices/{id}/fields``)."""

    async def block(uow: BillingUnitOfWork) -> IncomingInvoice:
        invoice = await _load(uow, invoice_id)
        complete = with_skonto(fields)
        invoice.enter_fields(complete, await _hints(uow, complete, invoice_id))
        await uow.incoming.save(invoice)
        return invoice

    return await transactor.run(block)


async def approve_invoice(
    transactor: Transactor[BillingUnitOfWork],
    invoice_id: str,
    *,
    account: str | None,
    not_a_duplicate: bool,
    policy: IncomingPolicy,
    by: str,
    clock: Clock,
) -> IncomingInvoice:
    async def block(uow: BillingUnitOfWork) -> IncomingInvoice:
        invoice = await _load(uow, invoice_id)
        chosen = choose_account(
            invoice.fields.supplier, dict(policy.supplier_accounts), policy.default_account, account
        )
        invoice.approve(account=chosen, by=by, at=clock(), not_a_duplicate=not_a_duplicate)
        await uow.incoming.save(invoice)
        _emit_recorded(uow, invoice)
        return invoice

    return await transactor.run(block)


async def reject_invoice(
    transactor: Transactor[BillingUnitOfWork],
    invoice_id: str,
    *,
    reason: str,
    by: str,
    clock: Clock,
) -> IncomingInvoice:
    async def block(uow: BillingUnitOfWork) -> IncomingInvoice:
        invoice = await _load(uow, invoice_id)
        invoice.reject(reason=reason, by=by, at=clock())
        await uow.incoming.save(invoice)
        return invoice

    return await transactor.run(block)
