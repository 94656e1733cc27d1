"""Payouts over the in-memory unit of work: the refund a credit document asks for (and
by which route), Skonto, and the payment run's ONE pain.001.001.09 file, parsed back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import sepaxml
from kontor_billing.application.invoicing import (
    BillingPolicy,
    cancel_invoice,
    on_order_confirmed,
    on_order_placed,
    on_return_completed,
)
from kontor_billing.application.payouts import create_payment_run, on_credit_document
from kontor_billing.domain.payouts import (
    CreditDocument,
    PaidSummary,
    Payable,
    Skonto,
    payable_amount,
    payable_is_due,
    refund_amount,
)
from kontor_billing.domain.seller import EXAMPLE_SELLER
from kontor_billing.store.memory import InMemoryBillingUnitOfWork
from kontor_contracts.events.billing import CreditNoteIssued, InvoiceCancelled
from kontor_contracts.events.orders import (
    OrderConfirmed,
    OrderPlaced,
    ReturnCompleted,
    ShippedLine,
)
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.domain_errors import Invalid
from kontor_servicekit.fakes import FakeTransactor
from lxml import etree

pytestmark = pytest.mark.unit

AT = datetime(2026, 6, 1, 9, tzinfo=UTC)
SELLER = replace(
    EXAMPLE_SELLER, name="Echt GmbH", sample=False, iban="DE89370400440532013000", bic=None
)
CUSTOMER_IBAN = "DE02120300000000202051"
SUPPLIER_IBAN = "DE02500105170137075030"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}


class Payouts:
    def __init__(self) -> None:
        self.transactor = FakeTransactor(InMemoryBillingUnitOfWork)
        self.clock = FakeClock(datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
        self.policy = BillingPolicy()

    async def seller(self) -> None:
        await self.transactor.run(lambda uow: uow.seller.save(SELLER))

    async def invoice(self, order_id: str = "o-1") -> None:
        event = order_placed_envelope(order_id).payload_model()
        assert isinstance(event, OrderPlaced)
        handle = partial(on_order_placed, clock=self.clock, policy=self.policy)
        await self.transactor.deliver(handle, event)
        await self.transactor.deliver(
            partial(on_order_confirmed, clock=self.clock, policy=self.policy),
            OrderConfirmed(order_id=order_id, confirmed_at=AT),
        )

    async def refund(self, amount: str, order_id: str = "o-1", return_id: str = "r-1") -> None:
        await self.transactor.deliver(
            partial(on_return_completed, clock=self.clock, policy=self.policy),
            ReturnCompleted(
                return_id=return_id,
                order_id=order_id,
                refund_amount=Decimal(amount),
                currency="EUR",
                includes_shipping=False,
                lines=[ShippedLine(line_no=1, sku="TEE-RED-M", quantity=1)],
                completed_at=AT,
            ),
        )

    def paid(self, order_id: str, summary: PaidSummary) -> None:
        self.transactor.db.tables.setdefault("paid_orders", {})[order_id] = (order_id, summary)

    def payable(self, payable: Payable) -> None:
        self.transactor.db.tables.setdefault("approved_payables", {})[payable.id] = payable

    async def plan_from_outbox(self) -> None:
        """Hand billing's own credit events to the payouts handler, as the broker would."""
        for event in self.transactor.db.events():
            if isinstance(event, CreditNoteIssued | InvoiceCancelled):
                await self.transactor.deliver(partial(on_credit_document, clock=self.clock), event)

    def items(self) -> list[Any]:
        return sorted(self.transactor.db.rows("payout_items"), key=lambda i: i.number)

    def gross(self, number: str) -> Decimal:
        [doc] = [d for d in self.transactor.db.rows("invoices") if d.number == number]
        return Decimal(doc.gross_total)


# ------------------------------------------------------------------ pure rules


def credit(credit: str, invoice: str = "100.00", credits: str | None = None) -> CreditDocument:
    return CreditDocument(
        number="KR-2026-000001",
        id="c-1",
        order_id="o-1",
        currency="EUR",
        credit=Decimal(credit),
        invoice_gross=Decimal(invoice),
        credits_total=Decimal(credits or credit),
        buyer_name="Anna",
    )


def paid(amount: str, method: str = "bank_transfer", ref: str | None = None) -> PaidSummary:
    return PaidSummary(paid=Decimal(amount), method=method, provider_reference=ref)


def test_a_refund_gives_back_only_what_was_paid_beyond_what_is_still_asked() -> None:
    assert refund_amount(credit("30.00"), None, Decimal("0")) == Decimal("0")
    assert refund_amount(credit("30.00"), paid("100.00"), Decimal("0")) == Decimal("30.00")
    # 50 paid of 100, 30 credited: 70 still asked, nothing to give back
    assert refund_amount(credit("30.00"), paid("50.00"), Decimal("0")) == Decimal("0.00")
    # 80 paid, 30 credited: 70 asked, 10 back
    assert refund_amount(credit("30.00"), paid("80.00"), Decimal("0")) == Decimal("10.00")
    # a second credit after a first refund of 30: only the new credit goes back
    second = credit("20.00", credits="50.00")
    assert refund_amount(second, paid("100.00"), Decimal("30.00")) == Decimal("20.00")
    # an over-payment is not refunded by a credit beyond that credit
    assert refund_amount(credit("30.00"), paid("150.00"), Decimal("0")) == Decimal("30.00")


def test_skonto_is_taken_until_its_deadline_and_never_after() -> None:
    payable = Payable(
        id="ii-1",
        number="ER-77",
        supplier_name="Stoff AG",
        iban=SUPPLIER_IBAN,
        amount_due=Decimal("1190.00"),
        currency="EUR",
        due_date=date(2026, 6, 30),
        skonto=Skonto(Decimal("2.00"), date(2026, 6, 10)),
    )
    assert payable_amount(payable, date(2026, 6, 10)) == (Decimal("1166.20"), Decimal("23.80"))
    assert payable_amount(payable, date(2026, 6, 11)) == (Decimal("1190.00"), Decimal("0"))
    # due in a run whose window holds the Skonto deadline, or the due date
    assert payable_is_due(payable, date(2026, 6, 1), date(2026, 6, 10))
    assert not payable_is_due(payable, date(2026, 6, 1), date(2026, 6, 9))
    assert payable_is_due(payable, date(2026, 6, 20), date(2026, 6, 30))
    assert not payable_is_due(payable, date(2026, 6, 20), date(2026, 6, 29))


# ------------------------------------------------------------------ refunds planned


async def test_a_correction_of_a_card_order_is_refunded_through_the_provider() -> None:
    payouts = Payouts()
    await payouts.invoice()
    payouts.paid("o-1", paid(str(payouts.gross("RE-2026-000001")), "card", "pi_123"))
    await payouts.refund("23.79")
    await payouts.plan_from_outbox()
    [item] = payouts.items()
    assert (item.kind, item.route, item.status) == ("refund", "provider", "pending")
    assert (item.amount, item.provider_reference) == (Decimal("23.79"), "pi_123")
    assert item.source_number == "KR-2026-000001"
    assert item.end_to_end_id is None  # not a SEPA transfer


async def test_a_bank_paid_order_is_refunded_by_sepa_and_waits_without_an_account() -> None:
    payouts = Payouts()
    await payouts.invoice("o-1")
    await payouts.invoice("o-2")
    full = str(payouts.gross("RE-2026-000001"))
    payouts.paid("o-1", replace(paid(full), payer_iban=CUSTOMER_IBAN, payer_name="Anna Muster"))
    payouts.paid("o-2", paid(full))
    await payouts.refund("23.79", "o-1", "r-1")
    await payouts.refund("23.79", "o-2", "r-2")
    await payouts.plan_from_outbox()
    first, second = payouts.items()
    assert (first.route, first.status, first.iban) == ("sepa", "pending", CUSTOMER_IBAN)
    assert first.end_to_end_id == first.number == "AZ-2026-000001"
    assert (second.route, second.status, second.iban) == ("sepa", "awaiting_account", None)


async def test_an_unpaid_order_gets_no_refund_and_a_document_is_planned_once() -> None:
    payouts = Payouts()
    await payouts.invoice()
    await payouts.refund("23.79")
    await payouts.plan_from_outbox()
    assert payouts.items() == []  # the credit lowers what is asked, nothing goes back
    payouts.paid("o-1", paid(str(payouts.gross("RE-2026-000001")), "card", "pi_1"))
    await payouts.plan_from_outbox()  # the same events again, new envelopes
    await payouts.plan_from_outbox()
    assert len(payouts.items()) == 1


async def test_a_cancellation_of_a_paid_invoice_refunds_all_of_it() -> None:
    payouts = Payouts()
    await payouts.invoice()
    gross = payouts.gross("RE-2026-000001")
    payouts.paid("o-1", paid(str(gross), "wallet", "pi_9"))
    await payouts.transactor.run(
        lambda uow: cancel_invoice(uow, "RE-2026-000001", "Test", clock=payouts.clock)
    )
    await payouts.plan_from_outbox()
    [item] = payouts.items()
    assert (item.amount, item.source_number, item.route) == (gross, "ST-2026-000001", "provider")


# ------------------------------------------------------------------ the payment run


def supplier(n: int, amount: str, **changes: Any) -> Payable:
    return replace(
        Payable(
            id=f"ii-{n}",
            number=f"ER-{n}",
            supplier_name=f"Lieferant {n} GmbH",
            iban=SUPPLIER_IBAN,
            amount_due=Decimal(amount),
            currency="EUR",
            due_date=date(2026, 6, 5),
        ),
        **changes,
    )


def parse_pain001(data: bytes) -> Any:
    """The file read back with lxml, and checked against the XSD (the one sepaxml ships)."""
    xsd = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.09.xsd"
    doc = etree.fromstring(data)
    etree.XMLSchema(etree.parse(str(xsd))).assertValid(doc)
    return doc


async def test_a_run_pays_every_due_item_once_in_one_valid_pain001_file() -> None:
    payouts = Payouts()
    await payouts.seller()
    await payouts.invoice()
    full = str(payouts.gross("RE-2026-000001"))
    payouts.paid("o-1", replace(paid(full), payer_iban=CUSTOMER_IBAN, payer_name="Anna Muster"))
    await payouts.refund("23.79")
    await payouts.plan_from_outbox()
    payouts.payable(supplier(1, "1190.00", skonto=Skonto(Decimal("2"), date(2026, 6, 3))))
    payouts.payable(supplier(2, "500.00", skonto=Skonto(Decimal("3"), date(2026, 5, 31))))
    payouts.payable(supplier(3, "99.00", due_date=date(2026, 7, 31)))  # not due yet
    payouts.payable(supplier(4, "10.00", iban="DE00123456780000000000"))  # bad check digits
    created = await create_payment_run(
        payouts.transactor,
        execution_date=date(2026, 6, 2),
        due_until=date(2026, 6, 5),
        clock=payouts.clock,
    )
    run = created.run
    assert run.number == "ZL-2026-000001"
    assert [s.source_number for s in created.skipped] == ["ER-4"]
    paid_items = {i.source_number: i for i in created.items}
    assert set(paid_items) == {"KR-2026-000001", "ER-1", "ER-2"}
    assert paid_items["ER-1"].amount == Decimal("1166.20")  # 2 % Skonto by 3 June
    assert paid_items["ER-1"].discount == Decimal("23.80")
    assert paid_items["ER-2"].amount == Decimal("500.00")  # its Skonto deadline passed

    file = await payouts.transactor.run(lambda uow: uow.payment_runs.file_of(run.id))
    doc = parse_pain001(file)
    header = doc.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header.findtext("p:MsgId", namespaces=NS) == "ZL-2026-000001"
    assert header.findtext("p:NbOfTxs", namespaces=NS) == "3"
    # 1166.20 + 500.00 + 23.79
    assert Decimal(header.findtext("p:CtrlSum", namespaces=NS)) == Decimal("1689.99")
    [info] = doc.findall("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert info.findtext("p:ReqdExctnDt/p:Dt", namespaces=NS) == "2026-06-02"
    assert info.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == SELLER.iban
    assert info.findtext("p:Dbtr/p:Nm", namespaces=NS) == "Echt GmbH"
    transfers = {
        tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS): tx
        for tx in info.findall("p:CdtTrfTxInf", NS)
    }
    assert set(transfers) == {i.number for i in created.items}
    for item in created.items:
        tx = transfers[item.number]
        amount = tx.find("p:Amt/p:InstdAmt", NS)
        assert (amount.get("Ccy"), Decimal(amount.text)) == ("EUR", item.amount)
        assert tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == item.iban
        assert tx.findtext("p:Cdtr/p:Nm", namespaces=NS) == item.creditor_name
        assert item.source_number in tx.findtext("p:RmtInf/p:Ustrd", namespaces=NS)
    assert {i.status for i in payouts.items() if i.run_id} == {"sent"}

    # each item is in at most one run: the next run has nothing to pay
    with pytest.raises(Invalid, match="nothing is due"):
        await create_payment_run(
            payouts.transactor,
            execution_date=date(2026, 6, 2),
            due_until=date(2026, 6, 5),
            clock=payouts.clock,
        )


async def test_a_run_needs_the_sellers_iban_and_a_date_not_in_the_past() -> None:
    payouts = Payouts()
    payouts.payable(supplier(1, "10.00"))
    with pytest.raises(Invalid, match="IBAN"):
        await create_payment_run(
            payouts.transactor, execution_date=None, due_until=None, clock=payouts.clock
        )
    await payouts.seller()
    with pytest.raises(Invalid, match="past"):
        await create_payment_run(
            payouts.transactor,
            execution_date=date(2026, 5, 1),
            due_until=None,
            clock=payouts.clock,
        )
    assert payouts.items() == []  # a refused run leaves nothing behind
