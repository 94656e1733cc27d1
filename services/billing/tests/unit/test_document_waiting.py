"""A document that breaks an e-invoice rule takes no number (ADR 0025): the invoice
waits un-numbered with the rule ids and is issued once the data is fixed; a refused
cancellation or correction takes none either. Over the in-memory unit of work, with
the real rule check."""

from __future__ import annotations

from dataclasses import replace

import pytest
from kontor_billing.application.document_check import rules_check
from kontor_billing.application.invoicing import BillingPolicy, cancel_invoice, update_seller
from kontor_billing.application.waiting import retry_waiting
from kontor_billing.domain.invoice import Invoice
from kontor_billing.domain.seller import EXAMPLE_SELLER
from kontor_servicekit.domain_errors import Conflict

from services.billing.tests.unit.test_invoice_life import Billing, confirmed, placed

pytestmark = pytest.mark.unit

NO_PHONE = replace(EXAMPLE_SELLER, name="Echt GmbH", phone=None, sample=False)
LEITWEG = "04011000-12345-03"


def checked(**policy: object) -> Billing:
    return Billing(BillingPolicy(check_documents=rules_check(), example_seller=False, **policy))


async def test_a_broken_invoice_waits_unnumbered_with_its_rule_id_and_issues_when_fixed() -> None:
    billing = checked()
    await billing.run(lambda uow: update_seller(uow, NO_PHONE, clock=billing.clock))
    # XRechnung (a Leitweg-ID) wants the seller's phone: BR-DE-6
    await billing.deliver(placed("o-1", buyer_reference=LEITWEG), confirmed("o-1"))
    assert billing.documents() == []
    assert billing.transactor.db.sequences == {}  # no number was taken
    [order] = billing.transactor.db.rows("orders")
    assert "BR-DE-6" in order.rule_ids and "BR-DE-6" in (order.waiting or "")
    # the next order is numbered as if nothing happened: the range stays gap-free
    await billing.deliver(placed("o-2"), confirmed("o-2"))
    assert [d.number for d in billing.documents()] == ["RE-2026-000001"]
    # a retry without a fix changes nothing
    issued, still = await billing.run(
        lambda uow: retry_waiting(uow, clock=billing.clock, policy=billing.policy)
    )
    assert (issued, still) == ([], 1)
    fixed = replace(NO_PHONE, phone="+49 30 1234567")
    issued = await billing.run(
        lambda uow: update_seller(uow, fixed, clock=billing.clock, policy=billing.policy)
    )
    assert [i.number for i in issued] == ["RE-2026-000002"]
    waiting = {o.order_id: o for o in billing.transactor.db.rows("orders")}["o-1"]
    assert (waiting.waiting, waiting.rule_ids) == (None, [])


async def test_a_refused_cancellation_takes_no_number_and_names_the_rule() -> None:
    billing = Billing(BillingPolicy())  # issued without the check, as before ADR 0025
    await billing.deliver(placed("o-1", buyer_reference=LEITWEG), confirmed("o-1"))
    [invoice] = billing.documents()
    billing.policy = BillingPolicy(check_documents=rules_check(), example_seller=False)
    await billing.run(lambda uow: update_seller(uow, NO_PHONE, clock=billing.clock))
    with pytest.raises(Conflict) as refused:
        await billing.run(
            lambda uow: cancel_invoice(
                uow, invoice.number, None, clock=billing.clock, policy=billing.policy
            )
        )
    assert "BR-DE-6" in refused.value.details["rule_ids"]
    assert "cancellation:2026" not in billing.transactor.db.sequences


async def test_every_check_sees_a_draft_with_a_provisional_number() -> None:
    seen: list[Invoice] = []

    async def spy(draft: Invoice) -> list[str]:
        seen.append(draft)
        return []

    billing = Billing(BillingPolicy(check_documents=spy))
    await billing.deliver(placed("o-1"), confirmed("o-1"))
    [draft] = seen
    [invoice] = billing.documents()
    assert draft.number == "RE-2026-999999" and invoice.number == "RE-2026-000001"
    assert draft.lines == invoice.lines and draft.buyer == invoice.buyer
