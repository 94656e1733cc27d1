"""Subscription ``billing.payouts``: the refunds billing's own credit documents ask for.

Billing consumes its own ``billing.invoice.v1`` here so that a refund is planned after
the correction or cancellation is committed (and once per document, by the inbox),
never inside the invoicing transaction: the provider is called later, by a sweeper.
"""

from __future__ import annotations

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.billing import CreditNoteIssued, InvoiceCancelled
from kontor_servicekit.clock import Clock
from kontor_servicekit.consumer import Subscription

from kontor_billing.application.payouts import PayoutsUnitOfWork, on_credit_document
from kontor_billing.store.unit_of_work import MongoBillingUnitOfWork


def payouts(clock: Clock) -> Subscription:
    async def plan(
        event: CreditNoteIssued | InvoiceCancelled, uow: PayoutsUnitOfWork, env: Envelope
    ) -> None:
        await on_credit_document(event, uow, env, clock=clock)

    return Subscription(
        purpose="payouts",
        description="Plans the refund of a correction or cancellation the customer had "
        "paid: through the card provider, or as a SEPA transfer in the next payment run",
        handlers={CreditNoteIssued: plan, InvoiceCancelled: plan},
        unit_of_work=MongoBillingUnitOfWork,
    )
