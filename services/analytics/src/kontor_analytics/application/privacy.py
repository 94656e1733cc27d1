"""Analytics as a privacy participant (issue 13, ADR 0035; what it holds: ADR 0094).

Export: the person's storefront sessions and raw events (client ids seen with their
user id) and how many of their orders the figures count. Erasure: those raw events and
sessions are deleted, the orders' customer hash and id are removed (the orders stay in
the figures, anonymous: the figures are the merchant's, not the person's).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kontor_contracts.events.orders import ErasedItem
from kontor_servicekit.privacy.participant import ErasureSummary, Subject

from kontor_analytics.application.unit_of_work import AnalyticsUnitOfWork
from kontor_analytics.domain.customers import customer_key


class AnalyticsPrivacy:
    async def export(self, subject: Subject, uow: AnalyticsUnitOfWork) -> dict[str, Any]:
        email = subject.email.strip().lower()
        users, clients = await uow.privacy.identities(email, customer_key(email))
        part = await uow.privacy.export(clients, customer_key(email))
        return {"personal_data": part, "user_ids": users}

    async def erase(
        self, subject: Subject, uow: AnalyticsUnitOfWork, now: datetime
    ) -> ErasureSummary:
        email = subject.email.strip().lower()
        _, clients = await uow.privacy.identities(email, customer_key(email))
        done = await uow.privacy.erase(clients, customer_key(email))
        return ErasureSummary(
            deleted=[
                ErasedItem(what="raw_events", count=done["raw_events"]),
                ErasedItem(what="sessions", count=done["sessions"]),
            ],
            anonymised=[ErasedItem(what="orders (figures)", count=done["orders"])],
        )
