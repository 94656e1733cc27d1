"""Storno + new invoice over the in-memory unit of work: after its cancellation an
order is invoiced again (the buyer corrected), one valid invoice per order, numbers
gap-free; refused for an invoice not cancelled, reissued already, or a cancelled order."""

from __future__ import annotations

import pytest
from kontor_billing.application.invoicing import BillingPolicy, cancel_invoice
from kontor_billing.application.reissue import reissue_invoice
from kontor_billing.domain.invoice import Invoice
from kontor_billing.domain.reissue import BuyerCorrection
from kontor_contracts.events.billing import InvoiceIssued
from kontor_contracts.events.orders import OrderCancelled
from kontor_servicekit.domain_errors import Conflict, IllegalTransition

from services.billing.tests.unit.test_invoice_life import Billing, confirmed, placed

pytestmark = pytest.mark.unit

FIRST = "RE-2026-000001"


async def cancel(billing: Billing, number: str) -> Invoice:
    result: Invoice = await billing.run(
        lambda uow: cancel_invoice(uow, number, "Adresse falsch", clock=billing.clock)
    )
    return result


async def reissue(billing: Billing, number: str, **buyer: str) -> Invoice:
    result: Invoice = await billing.run(
        lambda uow: reissue_invoice(
            uow, number, BuyerCorrection(**buyer), clock=billing.clock, policy=billing.policy
        )
    )
    return result


async def invoiced() -> Billing:
    billing = Billing(BillingPolicy())
    await billing.deliver(placed("o-1"), confirmed("o-1"))
    return billing


async def test_after_its_cancellation_the_order_is_invoiced_again_with_the_buyer_corrected() -> (
    None
):
    billing = await invoiced()
    storno = await cancel(billing, FIRST)
    new = await reissue(billing, FIRST, street="Neue Str. 9", company="Muster AG")
    assert new.number == "RE-2026-000002" and new.generation == 2
    assert (new.buyer.street, new.buyer.company) == ("Neue Str. 9", "Muster AG")
    [old] = [d for d in billing.documents("invoice") if d.number == FIRST]
    assert new.buyer.postcode == old.buyer.postcode  # what was not corrected stays
    assert new.lines == old.lines and new.gross_total == old.gross_total
    assert f"Ersetzt die stornierte Rechnung {FIRST} (Storno {storno.number})." in new.notes
    [order] = billing.transactor.db.rows("orders")
    assert order.invoice_number == new.number
    issued = billing.transactor.db.events(InvoiceIssued)
    assert [e.number for e in issued] == [FIRST, new.number]

    # a correction now refers to the valid (new) invoice
    async def latest(uow: object) -> Invoice | None:
        return await uow.invoices.invoice_of("o-1")  # type: ignore[attr-defined, no-any-return]

    assert (await billing.run(latest)).number == new.number


async def test_one_valid_invoice_per_order() -> None:
    billing = await invoiced()
    with pytest.raises(IllegalTransition, match="cancel it first"):
        await reissue(billing, FIRST)
    await cancel(billing, FIRST)
    new = await reissue(billing, FIRST)
    with pytest.raises(Conflict, match=f"reissued already as {new.number}"):
        await reissue(billing, FIRST)
    with pytest.raises(IllegalTransition, match="cancel it first"):
        await reissue(billing, new.number)
    await cancel(billing, new.number)
    third = await reissue(billing, new.number)
    assert (third.number, third.generation) == ("RE-2026-000003", 3)
    assert billing.transactor.db.sequences == {"invoice:2026": 3, "cancellation:2026": 2}


async def test_storage_refuses_a_second_invoice_of_the_same_generation() -> None:
    billing = await invoiced()
    [invoice] = billing.documents()
    twin = Invoice(**{**vars(invoice), "id": "other", "number": "RE-2026-000099"})

    async def add(uow: object) -> str:
        return await uow.invoices.add(twin)  # type: ignore[attr-defined, no-any-return]

    with pytest.raises(Conflict):
        await billing.run(add)


async def test_a_cancelled_order_is_not_invoiced_again() -> None:
    billing = await invoiced()
    await billing.deliver(OrderCancelled(order_id="o-1", reason="customer"))
    with pytest.raises(IllegalTransition, match="cancelled"):
        await reissue(billing, FIRST)
