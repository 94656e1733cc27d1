"""Privacy requests (issue 13, ADR 0035): orders answers them, and gathers the answers.

- ``orders.privacy``: orders as a participant (the kit's subscription factory);
- ``orders.privacy-requests``: the coordinator records every service's answer.
"""

from __future__ import annotations

from kontor_contracts.events.orders import CustomerDataErased, CustomerDataExported
from kontor_servicekit.consumer import Subscription
from kontor_servicekit.privacy.participant import privacy_subscription

from kontor_orders.application import privacy
from kontor_orders.store.unit_of_work import MongoOrdersUnitOfWork


def privacy_participant() -> Subscription:
    return privacy_subscription(
        "orders", privacy.OrdersPrivacy(), unit_of_work=MongoOrdersUnitOfWork
    )


def privacy_answers() -> Subscription:
    return Subscription(
        purpose="privacy-requests",
        description="Records each service's answer to a privacy request",
        handlers={
            CustomerDataExported: privacy.on_data_exported,
            CustomerDataErased: privacy.on_data_erased,
        },
        unit_of_work=MongoOrdersUnitOfWork,
        unseal=True,  # an export's parts are sealed with the person's key (ADR 0036)
    )
