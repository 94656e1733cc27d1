"""Subscription ``catalog.privacy``: the catalog answers privacy requests (issue 13)."""

from __future__ import annotations

from kontor_servicekit.clock import Clock
from kontor_servicekit.consumer import Subscription
from kontor_servicekit.privacy.participant import privacy_subscription

from kontor_catalog.application.privacy import CatalogPrivacy
from kontor_catalog.store.unit_of_work import MongoCatalogUnitOfWork


def privacy_participant(clock: Clock) -> Subscription:
    return privacy_subscription(
        "catalog", CatalogPrivacy(), unit_of_work=MongoCatalogUnitOfWork, clock=clock
    )
