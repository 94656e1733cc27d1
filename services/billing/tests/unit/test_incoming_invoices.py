"""Incoming invoices' use cases over the in-memory unit of work (issue 12): a file kept
once, duplicates flagged, refused ones kept, a plain PDF completed by hand, approval by a
person to an expense account, rejection, and the due list with its Skonto deadlines."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from kontor_billing.application.incoming import (
    IncomingPolicy,
    Received,
    approve_invoice,
    enter_fields,
    receive_invoice,
    reject_invoice,
)
from kontor_billing.domain.incoming import (
    Address,
    IncomingInvoice,
    InvoiceFields,
    Skonto,
    Supplier,
    due_entries,
)
from kontor_billing.store.memory import InMemoryBillingUnitOfWork
from kontor_contracts.events.billing import IncomingInvoiceApproved, IncomingInvoiceReceived
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.domain_errors import Conflict, IllegalTransition, Invalid, NotFound
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit

DATA = Path(__file__).parents[1] / "data" / "incoming"
D = Decimal
POLICY = IncomingPolicy(default_account="3400", supplier_accounts={"DE811907980": "4930"})


class Files:
    """The blob store in memory."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.ids = itertools.count(1)

    async def put(
        self,
        data: bytes,
        *,
        filename: str,
        content_type: str,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        blob_id = f"blob-{next(self.ids)}"
        self.blobs[blob_id] = data
        return blob_id

    async def delete(self, blob_id: str) -> None:
        self.blobs.pop(blob_id, None)


@dataclasses.dataclass
class Billing:
    transactor: FakeTransactor[InMemoryBillingUnitOfWork]
    files: Files
    clock: FakeClock
    ids: itertools.count[int]

    async def receive(
        self, data: bytes, *, name: str = "invoice.xml", fields: InvoiceFields | None = None
    ) -> Received:
        return await receive_invoice(
            self.transactor,
            self.files,
            data=data,
            filename=name,
            fields=fields,
            new_id=lambda: f"in-{next(self.ids)}",
            clock=self.clock,
            by="clerk",
        )

    async def file(self, name: str) -> Received:
        return await self.receive((DATA / name).read_bytes(), name=name)

    async def approve(self, invoice_id: str, **kwargs: Any) -> IncomingInvoice:
        kwargs.setdefault("account", None)
        kwargs.setdefault("not_a_duplicate", False)
        return await approve_invoice(
            self.transactor, invoice_id, policy=POLICY, by="chefin", clock=self.clock, **kwargs
        )

    def events(self) -> list[Any]:
        return list(self.transactor.db.outbox)


@pytest.fixture
def billing() -> Billing:
    return Billing(
        FakeTransactor(InMemoryBillingUnitOfWork),
        Files(),
        FakeClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC)),
        itertools.count(1),
    )


async def test_an_xrechnung_is_kept_with_its_file_and_announced(billing: Billing) -> None:
    received = await billing.file("xrechnung-cii.xml")
    invoice = received.invoice
    assert not received.duplicate
    assert (invoice.status, invoice.format, invoice.report.outcome) == (
        "received",
        "cii",
        "accepted",
    )
    assert billing.files.blobs[invoice.file_id] == (DATA / "xrechnung-cii.xml").read_bytes()
    assert invoice.received_by == "clerk"
    [event] = billing.events()
    assert isinstance(event.event, IncomingInvoiceReceived)
    assert event.aggregate_id == invoice.id
    assert (event.event.number, event.event.amount_due, event.event.status) == (
        "PC-2026-4711",
        D("206.89"),
        "received",
    )
    assert event.event.sha256 == invoice.sha256


async def test_the_same_file_again_answers_the_first_record_and_keeps_nothing_new(
    billing: Billing,
) -> None:
    first = await billing.file("xrechnung-cii.xml")
    again = await billing.file("xrechnung-cii.xml")
    assert again.duplicate and again.invoice.id == first.invoice.id
    assert len(billing.files.blobs) == 1
    assert len(billing.transactor.db.rows("incoming_invoices")) == 1
    assert len(billing.events()) == 1


async def test_the_same_supplier_and_number_in_another_file_is_a_suspected_duplicate(
    billing: Billing,
) -> None:
    first = await billing.file("xrechnung-cii.xml")
    other_bytes = (
        (DATA / "xrechnung-cii.xml").read_bytes().replace(b"Vielen Dank", b"Nochmals vielen Dank")
    )
    second = (await billing.receive(other_bytes)).invoice
    assert second.id != first.invoice.id
    assert second.duplicate_suspected
    assert [(h.of, h.reason) for h in second.duplicates] == [
        (first.invoice.id, "same_supplier_and_number")
    ]
    assert billing.events()[-1].event.duplicate_suspected is True
    with pytest.raises(Conflict, match="may be a duplicate"):
        await billing.approve(second.id)
    approved = await billing.approve(second.id, not_a_duplicate=True)
    assert approved.status == "approved"


async def test_the_same_supplier_amount_and_date_is_a_suspicion_too(billing: Billing) -> None:
    first = await billing.file("xrechnung-cii.xml")
    renumbered = (DATA / "xrechnung-cii.xml").read_bytes().replace(b"PC-2026-4711", b"PC-2026-4799")
    second = (await billing.receive(renumbered)).invoice
    assert [(h.of, h.reason) for h in second.duplicates] == [
        (first.invoice.id, "same_supplier_amount_and_date")
    ]


async def test_a_refused_invoice_is_kept_with_its_rule_ids_and_cannot_be_approved(
    billing: Billing,
) -> None:
    invoice = (await billing.file("broken-cii.xml")).invoice
    assert invoice.status == "refused"
    assert invoice.report.rule_ids == ["BR-CL-04", "BR-CO-15", "BR-CO-16"]
    assert invoice.file_id in billing.files.blobs  # kept unchanged (GoBD)
    event = billing.events()[0].event
    assert (event.status, event.validation, event.currency) == ("refused", "refused", None)
    assert event.rule_ids == ["BR-CL-04", "BR-CO-15", "BR-CO-16"]
    with pytest.raises(IllegalTransition, match="refused"):
        await billing.approve(invoice.id)
    rejected = await reject_invoice(
        billing.transactor, invoice.id, reason="Summen falsch", by="chefin", clock=billing.clock
    )
    assert (rejected.status, rejected.rejected_reason, rejected.rejected_by) == (
        "rejected",
        "Summen falsch",
        "chefin",
    )


async def test_a_file_that_is_no_invoice_is_refused_and_nothing_is_kept(
    billing: Billing,
) -> None:
    with pytest.raises(Invalid):
        await billing.receive(b"<Order xmlns='urn:example'/>")
    assert billing.files.blobs == {}
    assert billing.transactor.db.rows("incoming_invoices") == []


PLAIN_FIELDS = InvoiceFields(
    type_code="380",
    number="Q-77",
    issue_date=date(2026, 11, 25),
    due_date=date(2026, 12, 9),
    currency="EUR",
    supplier=Supplier(
        name="Druckerei Blau KG",
        vat_id="DE811907980",
        address=Address("Am Hafen 3", "28195", "Bremen", "DE"),
        iban="DE89370400440532013000",
    ),
    net_total=D("250.00"),
    vat_total=D("47.50"),
    gross_total=D("297.50"),
    amount_due=D("297.50"),
    skonto=Skonto(D("2"), 7, date(2026, 12, 2)),
)


async def test_a_plain_pdf_waits_for_its_fields_then_can_be_approved(billing: Billing) -> None:
    invoice = (await billing.file("plain.pdf")).invoice
    assert (invoice.status, invoice.format, invoice.report.outcome) == (
        "incomplete",
        "pdf",
        "not_checked",
    )
    with pytest.raises(IllegalTransition, match="incomplete"):
        await billing.approve(invoice.id)
    completed = await enter_fields(billing.transactor, invoice.id, PLAIN_FIELDS)
    assert (completed.status, completed.fields) == ("received", PLAIN_FIELDS)
    approved = await billing.approve(invoice.id)
    # the supplier's account from the settings, found by its VAT id
    assert (approved.approved_account, approved.approved_by) == ("4930", "chefin")
    with pytest.raises(IllegalTransition, match="approved"):
        await enter_fields(billing.transactor, invoice.id, PLAIN_FIELDS)


async def test_a_plain_pdf_with_its_fields_in_the_upload_is_received_at_once(
    billing: Billing,
) -> None:
    pdf = (DATA / "plain.pdf").read_bytes()
    invoice = (await billing.receive(pdf, name="q77.pdf", fields=PLAIN_FIELDS)).invoice
    assert (invoice.status, invoice.fields.number, invoice.media_type) == (
        "received",
        "Q-77",
        "application/pdf",
    )


async def test_an_e_invoice_says_its_own_fields(billing: Billing) -> None:
    invoice = (await billing.file("zugferd.pdf")).invoice
    assert invoice.format == "facturx-pdf"
    with pytest.raises(Conflict, match="e-invoice"):
        await enter_fields(billing.transactor, invoice.id, PLAIN_FIELDS)


async def test_incomplete_fields_are_refused_by_name(billing: Billing) -> None:
    invoice = (await billing.file("plain.pdf")).invoice
    with pytest.raises(Invalid) as refused:
        await enter_fields(
            billing.transactor, invoice.id, dataclasses.replace(PLAIN_FIELDS, number=None)
        )
    assert refused.value.field == ("number",)


async def test_approval_books_to_the_given_account_else_the_default_and_announces_it(
    billing: Billing,
) -> None:
    xr = (await billing.file("xrechnung-cii.xml")).invoice
    ubl = (await billing.file("ubl-invoice.xml")).invoice
    assert (await billing.approve(xr.id)).approved_account == "3400"
    assert (await billing.approve(ubl.id, account="4980")).approved_account == "4980"
    approved = [e for e in billing.events() if isinstance(e.event, IncomingInvoiceApproved)]
    assert [e.aggregate_id for e in approved] == [xr.id, ubl.id]
    event = approved[0].event
    assert (event.expense_account, event.approved_by, event.amount_due) == (
        "3400",
        "chefin",
        D("206.89"),
    )
    assert (event.supplier_name, event.supplier_iban, event.currency) == (
        "Papier & Co. Großhandel GmbH",
        "DE02120300000000202051",
        "EUR",
    )
    assert (event.skonto_percent, event.skonto_until) == (D("2.00"), date(2026, 12, 4))
    assert event.amount_after_skonto == D("202.75")  # 206.89 - 2 % (4.14)
    with pytest.raises(IllegalTransition, match="approved"):
        await billing.approve(xr.id)
    with pytest.raises(IllegalTransition, match="approved"):
        await reject_invoice(billing.transactor, xr.id, reason="x", by="c", clock=billing.clock)


async def test_an_account_that_is_no_skr_number_is_refused(billing: Billing) -> None:
    invoice = (await billing.file("xrechnung-cii.xml")).invoice
    with pytest.raises(Invalid) as refused:
        await billing.approve(invoice.id, account="34")
    assert refused.value.field == ("account",)


async def test_an_unknown_invoice_is_not_found(billing: Billing) -> None:
    with pytest.raises(NotFound):
        await billing.approve("in-404")


async def test_the_due_list_puts_the_next_deadline_first_with_skonto_while_it_lasts(
    billing: Billing,
) -> None:
    xr = (await billing.file("xrechnung-cii.xml")).invoice  # Skonto until 12-04, due 12-20
    ubl = (await billing.file("ubl-invoice.xml")).invoice  # Skonto until 12-07, due 12-27
    zf = (await billing.file("zugferd.pdf")).invoice  # due 12-09, no Skonto
    broken = (await billing.file("broken-cii.xml")).invoice  # refused: not due
    rows = billing.transactor.db.rows("incoming_invoices")
    today = date(2026, 12, 1)
    entries = due_entries(rows, today)
    assert [e.invoice.id for e in entries] == [xr.id, ubl.id, zf.id]
    assert broken.id not in {e.invoice.id for e in entries}
    first = entries[0]
    assert (first.skonto_until, first.skonto_days_left, first.skonto_amount) == (
        date(2026, 12, 4),
        3,
        D("202.75"),
    )
    assert (first.due_date, first.days_left, first.next_deadline) == (
        date(2026, 12, 20),
        19,
        date(2026, 12, 4),
    )
    assert entries[1].skonto_amount == D("549.20")  # 566.19 - 3 % (16.99)
    assert entries[2].skonto_until is None and entries[2].days_left == 8
    # past both Skonto deadlines the due dates decide; a day past the due date is negative
    later = due_entries(rows, today + timedelta(days=9))
    assert [e.invoice.id for e in later] == [zf.id, xr.id, ubl.id]
    assert later[0].days_left == -1 and later[1].skonto_until is None


async def test_an_iban_a_bank_would_refuse_is_a_warning_in_the_report(billing: Billing) -> None:
    wrong_check_digits = (
        (DATA / "xrechnung-cii.xml")
        .read_bytes()
        .replace(b"DE02120300000000202051", b"DE03120300000000202051")
    )
    invoice = (await billing.receive(wrong_check_digits)).invoice
    report = invoice.report
    assert (report.outcome, invoice.status) == ("accepted_with_warnings", "received")
    # KoSIT's BR-DE-19 (a warning in XRechnung) and schwifty's check both say so
    assert [(w.rule, w.severity) for w in report.warnings] == [
        ("BR-DE-19", "warning"),
        ("IBAN", "warning"),
    ]
    assert report.rule_sets == ("XSD", "EN16931", "XRechnung", "IBAN")
