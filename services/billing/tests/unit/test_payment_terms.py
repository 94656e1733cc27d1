"""Payment terms per customer (issue 12 leftover): the days to pay agreed with a buyer's
e-mail decide the due date of the invoices issued from then on (14 without a choice),
are kept on the document (a later change does not move an issued due date), reach the
receivables ledger and the payment terms the PDF and XML print."""

from __future__ import annotations

from datetime import timedelta

import pytest
from kontor_billing.application.buyer_language import set_buyer_terms
from kontor_billing.documents.from_invoice import EXAMPLE_SELLER, document_of

from services.billing.tests.unit.test_invoice_life import Billing, confirmed, placed

pytestmark = pytest.mark.unit


async def test_the_days_agreed_with_the_buyer_decide_the_due_date_of_later_invoices() -> None:
    billing = Billing()
    await billing.deliver(placed("o-1"), confirmed("o-1"))  # no choice yet: 14 days
    await billing.run(lambda uow: set_buyer_terms(uow, "ANNA@example.de", 30))
    await billing.deliver(placed("o-2"), confirmed("o-2"))
    await billing.run(lambda uow: set_buyer_terms(uow, "anna@example.de", 0))
    await billing.deliver(placed("o-3"), confirmed("o-3"))
    first, second, third = billing.documents()
    assert [d.due_date - d.issue_date for d in (first, second, third)] == [
        timedelta(days=14),
        timedelta(days=30),
        timedelta(days=0),
    ]
    assert (first.buyer.payment_term_days, second.buyer.payment_term_days) == (None, 30)
    ledger = billing.transactor.db.rows("receivables")
    assert sorted((r.invoice_number, r.due_date) for r in ledger) == sorted(
        (d.number, d.due_date) for d in (first, second, third)
    )
    terms = [document_of(d, EXAMPLE_SELLER).payment_terms for d in (first, second, third)]
    assert terms == [
        "Zahlbar innerhalb von 14 Tagen ohne Abzug.",
        "Zahlbar innerhalb von 30 Tagen ohne Abzug.",
        "Zahlbar sofort ohne Abzug.",
    ]
