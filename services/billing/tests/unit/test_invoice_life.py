"""An invoice's life over the in-memory unit of work: when it is issued (on the
confirmation, or the first shipment), never for a rejected or only placed order, the
seller's data on it (or the wait for it), the §14 notes, the cancellation (Storno),
corrections for refunds, and the audit chain."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from kontor_billing.application.invoicing import (
    BillingPolicy,
    cancel_invoice,
    on_order_cancelled,
    on_order_confirmed,
    on_order_placed,
    on_order_rejected,
    on_order_shipped,
    on_return_completed,
    update_seller,
)
from kontor_billing.domain.audit import first_broken
from kontor_billing.domain.invoice import (
    INTRA_COMMUNITY_NOTE,
    SMALL_BUSINESS_NOTE,
    SUPPLY_DATE_NOTE,
    Invoice,
)
from kontor_billing.domain.seller import EXAMPLE_SELLER, SAMPLE_NOTE
from kontor_billing.store.canonical import document_sha256
from kontor_billing.store.invoices import to_document
from kontor_billing.store.memory import InMemoryBillingUnitOfWork
from kontor_contracts.envelope import Event
from kontor_contracts.events.billing import CreditNoteIssued, InvoiceCancelled, InvoiceIssued
from kontor_contracts.events.orders import (
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    OrderRejected,
    OrderShipped,
    ReturnCompleted,
    ShippedLine,
    VatExemption,
)
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.domain_errors import Conflict, IllegalTransition, NotFound
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit

AT = datetime(2026, 6, 1, 9, tzinfo=UTC)
REAL = replace(EXAMPLE_SELLER, name="Echt GmbH", sample=False)

Handler = Callable[..., Awaitable[None]]
HANDLERS: dict[type[Event], Handler] = {
    OrderPlaced: on_order_placed,
    OrderConfirmed: on_order_confirmed,
    OrderShipped: on_order_shipped,
    OrderRejected: on_order_rejected,
    OrderCancelled: on_order_cancelled,
    ReturnCompleted: on_return_completed,
}


class Billing:
    def __init__(self, policy: BillingPolicy | None = None) -> None:
        self.transactor = FakeTransactor(InMemoryBillingUnitOfWork)
        self.clock = FakeClock(datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
        self.policy = policy or BillingPolicy()

    async def deliver(self, *events: Event) -> None:
        for event in events:
            handler = HANDLERS[type(event)]
            await self.transactor.deliver(
                partial(handler, clock=self.clock, policy=self.policy), event
            )

    async def run(self, work: Callable[[Any], Awaitable[Any]]) -> Any:
        return await self.transactor.run(work)

    def documents(self, kind: str | None = None) -> list[Invoice]:
        rows = sorted(self.transactor.db.rows("invoices"), key=lambda i: i.number)
        return [r for r in rows if kind is None or r.kind == kind]


def placed(order_id: str = "o-1", **changes: Any) -> OrderPlaced:
    event = order_placed_envelope(order_id).payload_model()
    assert isinstance(event, OrderPlaced)
    return event.model_copy(update=changes)


def confirmed(order_id: str = "o-1") -> OrderConfirmed:
    return OrderConfirmed(order_id=order_id, confirmed_at=AT)


def shipped(order_id: str = "o-1", at: datetime = AT) -> OrderShipped:
    return OrderShipped(
        order_id=order_id,
        shipment_id="s-1",
        carrier="DHL",
        lines=[ShippedLine(line_no=1, sku="TEE-RED-M", quantity=2)],
        complete=False,
        shipped_at=at,
    )


def returned(amount: str, *lines: tuple[int, str, int], return_id: str = "r-1") -> ReturnCompleted:
    return ReturnCompleted(
        return_id=return_id,
        order_id="o-1",
        refund_amount=Decimal(amount),
        currency="EUR",
        includes_shipping=False,
        lines=[ShippedLine(line_no=n, sku=s, quantity=q) for n, s, q in lines],
        completed_at=AT,
    )


# ------------------------------------------------------------------ when


async def test_the_invoice_follows_the_confirmation_not_the_placement() -> None:
    billing = Billing()
    await billing.deliver(placed())
    assert billing.documents() == []
    await billing.deliver(confirmed())
    [invoice] = billing.documents()
    assert invoice.number == "RE-2026-000001"
    assert billing.transactor.db.event_types() == ["InvoiceIssued"]


async def test_a_confirmation_before_its_placement_still_invoices_once() -> None:
    billing = Billing()
    await billing.deliver(confirmed())
    assert billing.documents() == []
    await billing.deliver(placed(), confirmed())
    assert [i.number for i in billing.documents()] == ["RE-2026-000001"]


async def test_an_order_only_placed_is_never_invoiced() -> None:
    billing = Billing()
    await billing.deliver(placed("made-up"), placed("o-2"), shipped("made-up"))
    assert billing.documents() == []
    assert billing.transactor.db.sequences == {}


async def test_a_rejected_order_is_never_invoiced_whatever_comes_after() -> None:
    billing = Billing()
    await billing.deliver(placed(), OrderRejected(order_id="o-1", reason="out_of_stock"))
    await billing.deliver(confirmed())
    assert billing.documents() == []


async def test_an_order_cancelled_before_its_invoice_is_never_invoiced() -> None:
    billing = Billing(BillingPolicy(invoice_on="shipped"))
    await billing.deliver(placed(), confirmed(), OrderCancelled(order_id="o-1", reason="customer"))
    await billing.deliver(shipped())
    assert billing.documents() == []


async def test_invoice_on_shipment_dates_the_supply_by_the_first_shipment() -> None:
    billing = Billing(BillingPolicy(invoice_on="shipped"))
    await billing.deliver(placed(), confirmed())
    assert billing.documents() == []
    await billing.deliver(shipped(at=datetime(2026, 5, 31, 22, 30, tzinfo=UTC)))
    await billing.deliver(shipped(at=datetime(2026, 6, 3, 10, tzinfo=UTC)))
    [invoice] = billing.documents()
    assert invoice.supply_date == date(2026, 6, 1)  # 00:30 in Berlin
    assert SUPPLY_DATE_NOTE not in invoice.notes
    [issued] = billing.transactor.db.events(InvoiceIssued)
    assert issued.delivery_date == date(2026, 6, 1)


async def test_invoice_on_confirmation_says_the_supply_date_is_the_issue_date() -> None:
    billing = Billing()
    await billing.deliver(placed(), confirmed())
    [invoice] = billing.documents()
    assert invoice.supply_date is None
    assert SUPPLY_DATE_NOTE in invoice.notes


# ------------------------------------------------------------------ the seller


async def test_the_example_seller_marks_the_invoice_a_sample_until_real_data_is_put() -> None:
    billing = Billing()
    await billing.deliver(placed("o-1"), confirmed("o-1"))
    await billing.run(lambda uow: update_seller(uow, REAL, clock=billing.clock))
    await billing.deliver(placed("o-2"), confirmed("o-2"))
    first, second = billing.documents()
    assert first.seller == EXAMPLE_SELLER and first.sample and SAMPLE_NOTE in first.notes
    assert second.seller == REAL and not second.sample and SAMPLE_NOTE not in second.notes


async def test_without_the_section_14_minimum_the_invoice_waits_then_issues_on_put() -> None:
    billing = Billing(BillingPolicy(example_seller=False))
    await billing.deliver(placed(), confirmed())
    assert billing.documents() == []
    [order] = billing.transactor.db.rows("orders")
    assert order.waiting == "no seller master data (PUT /seller)"
    issued = await billing.run(lambda uow: update_seller(uow, REAL, clock=billing.clock))
    assert [i.number for i in issued] == ["RE-2026-000001"]
    [invoice] = billing.documents()
    assert invoice.seller == REAL
    [order] = billing.transactor.db.rows("orders")
    assert order.waiting is None


def test_the_minimum_is_name_address_and_a_tax_number_or_vat_id() -> None:
    assert REAL.missing() == []
    assert replace(REAL, vat_id=None).missing() == []
    assert replace(REAL, vat_id=None, tax_number=None, city=" ").missing() == [
        "city",
        "vat_id or tax_number",
    ]


# ------------------------------------------------------------------ §14 fields


async def test_small_business_mode_shows_no_vat_and_says_why() -> None:
    billing = Billing(BillingPolicy(small_business=True))
    await billing.deliver(placed(), confirmed())
    [invoice] = billing.documents()
    assert invoice.vat_total == 0
    assert {line.vat_category for line in invoice.lines} == {"E"}
    assert invoice.gross_total == Decimal("67.58")  # what the customer pays, in full
    assert SMALL_BUSINESS_NOTE in invoice.notes


async def test_an_intra_community_supply_names_both_vat_ids_and_category_k() -> None:
    event = placed(buyer_vat_id="ATU13585627")
    zero = [
        line.model_copy(update={"vat_rate": Decimal("0"), "line_vat": Decimal("0.00")})
        for line in event.lines
    ]
    exemption = VatExemption(
        category="K", reason=INTRA_COMMUNITY_NOTE, vies_confirmation="confirmed"
    )
    billing = Billing()
    await billing.deliver(event.model_copy(update={"lines": zero, "vat_exemption": exemption}))
    await billing.deliver(confirmed())
    [invoice] = billing.documents()
    assert [(r.vat_rate, r.category, r.vat) for r in invoice.vat_breakdown] == [
        (Decimal("0"), "K", Decimal("0.00"))
    ]
    [note] = [n for n in invoice.notes if n.startswith(INTRA_COMMUNITY_NOTE)]
    assert "DE136695976" in note and "ATU13585627" in note
    assert invoice.buyer.vat_id == "ATU13585627"


# ------------------------------------------------------------------ Storno


async def test_a_cancellation_negates_the_invoice_in_its_own_number_range() -> None:
    billing = Billing()
    await billing.deliver(placed(), confirmed())
    [invoice] = billing.documents()
    storno = await billing.run(
        lambda uow: cancel_invoice(uow, invoice.number, "falsche Adresse", clock=billing.clock)
    )
    assert storno.number == "ST-2026-000001"
    assert storno.kind == "cancellation"
    assert storno.original_number == invoice.number
    assert storno.gross_total == -invoice.gross_total
    assert [r.vat for r in storno.vat_breakdown] == [-r.vat for r in invoice.vat_breakdown]
    assert any("falsche Adresse" in n and invoice.number in n for n in storno.notes)
    [event] = billing.transactor.db.events(InvoiceCancelled)
    assert (event.number, event.cancellation_number) == (invoice.number, storno.number)
    assert billing.transactor.db.sequences == {"invoice:2026": 1, "cancellation:2026": 1}


async def test_an_invoice_is_cancelled_once_and_only_an_invoice() -> None:
    billing = Billing()
    await billing.deliver(placed(), confirmed())
    storno = await billing.run(
        lambda uow: cancel_invoice(uow, "RE-2026-000001", None, clock=billing.clock)
    )
    with pytest.raises(Conflict, match="already cancelled by ST-2026-000001"):
        await billing.run(
            lambda uow: cancel_invoice(uow, "RE-2026-000001", None, clock=billing.clock)
        )
    with pytest.raises(IllegalTransition):
        await billing.run(lambda uow: cancel_invoice(uow, storno.number, None, clock=billing.clock))
    with pytest.raises(NotFound):
        await billing.run(
            lambda uow: cancel_invoice(uow, "RE-2026-000099", None, clock=billing.clock)
        )
    assert len(billing.documents("cancellation")) == 1


async def test_an_order_cancelled_after_its_invoice_gets_a_cancellation_automatically() -> None:
    billing = Billing()
    await billing.deliver(placed(), confirmed())
    cancelled = OrderCancelled(order_id="o-1", reason="customer")
    await billing.deliver(cancelled, OrderCancelled(order_id="o-1", reason="again"))
    [storno] = billing.documents("cancellation")
    assert storno.original_number == "RE-2026-000001"
    assert "customer" in (storno.reason or "")


# ------------------------------------------------------------------ corrections


async def test_a_full_line_refund_is_corrected_as_invoiced() -> None:
    billing = Billing()
    await billing.deliver(placed(), confirmed(), returned("23.79", (1, "TEE-RED-M", 1)))
    [correction] = billing.documents("correction")
    assert correction.number == "KR-2026-000001"
    assert correction.original_number == "RE-2026-000001"
    [line] = correction.lines
    assert (line.quantity, line.net, line.vat) == (-1, Decimal("-19.99"), Decimal("-3.80"))
    assert correction.gross_total == Decimal("-23.79")
    [event] = billing.transactor.db.events(CreditNoteIssued)
    assert (event.gross_total, event.return_id) == (Decimal("23.79"), "r-1")


async def test_a_partial_refund_over_two_rates_splits_net_and_vat_per_rate() -> None:
    billing = Billing()
    refund = returned("30.00", (1, "TEE-RED-M", 2), (2, "BOOK-1", 1))
    await billing.deliver(placed(), confirmed(), refund)
    [correction] = billing.documents("correction")
    assert correction.gross_total == Decimal("-30.00")
    rows = {r.vat_rate: r for r in correction.vat_breakdown}
    # 30.00 split by gross 47.58 : 20.00, then net and VAT from each part at its rate
    assert rows[Decimal("0.19")].gross == Decimal("-21.12")
    assert rows[Decimal("0.07")].gross == Decimal("-8.88")
    assert rows[Decimal("0.19")].net == Decimal("-17.75")
    assert rows[Decimal("0.07")].net == Decimal("-8.30")


async def test_a_refund_is_corrected_once_and_never_without_an_invoice() -> None:
    billing = Billing()
    await billing.deliver(placed(), returned("20.00", (2, "BOOK-1", 1)))
    assert billing.documents("correction") == []
    await billing.deliver(confirmed())
    again = returned("20.00", (2, "BOOK-1", 1), return_id="r-2")
    await billing.deliver(again, again.model_copy())
    assert [c.return_id for c in billing.documents("correction")] == ["r-2"]


# ------------------------------------------------------------------ audit chain


async def test_every_document_and_change_lands_on_its_chain_and_a_change_breaks_it() -> None:
    billing = Billing()
    for n in (1, 2):
        await billing.deliver(placed(f"o-{n}"), confirmed(f"o-{n}"))
    await billing.run(lambda uow: cancel_invoice(uow, "RE-2026-000001", None, clock=billing.clock))
    entries = sorted(billing.transactor.db.rows("audit"), key=lambda e: (e.chain, e.seq))
    assert [(e.chain, e.seq, e.number, e.action) for e in entries] == [
        ("RE-2026", 1, "RE-2026-000001", "issued"),
        ("RE-2026", 2, "RE-2026-000002", "issued"),
        ("RE-2026", 3, "RE-2026-000001", "cancelled"),
        ("ST-2026", 1, "ST-2026-000001", "issued"),
    ]
    hashes = {d.number: document_sha256(to_document(d)) for d in billing.documents()}
    chain = [e for e in entries if e.chain == "RE-2026"]
    assert first_broken(chain, hashes) is None

    edited = replace(billing.documents()[1], order_number="B-FAKE")
    broken = first_broken(chain, {**hashes, edited.number: document_sha256(to_document(edited))})
    assert broken is not None and (broken.seq, broken.number) == (2, "RE-2026-000002")
    assert broken.reason == "document differs from the one issued"

    gone = first_broken([chain[0], chain[2]], hashes)
    assert gone is not None and (gone.seq, gone.reason) == (2, "entry 2 is missing")
    forged = replace(chain[1], number="RE-2026-000001")
    altered = first_broken([chain[0], forged, chain[2]], hashes)
    assert altered is not None and altered.reason == "entry was altered"


def test_the_stored_hash_is_the_same_computed_from_what_was_written_or_read_back() -> None:
    from bson.decimal128 import Decimal128

    written = {"at": datetime(2026, 6, 1, 10, 0, 0, 123456, tzinfo=UTC), "net": Decimal("7.60")}
    read_back = {
        "net": Decimal128("7.60"),
        "at": datetime(2026, 6, 1, 10, 0, 0, 123000, tzinfo=UTC),
    }
    assert document_sha256(written) == document_sha256(read_back)
    assert document_sha256(written) != document_sha256({**written, "net": Decimal("7.61")})
