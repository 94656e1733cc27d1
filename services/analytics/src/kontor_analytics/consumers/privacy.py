"""Subscription ``analytics.privacy``: analytics answers privacy requests (issue 13)."""

from __future__ import annotations

from kontor_servicekit.clock import Clock
from kontor_servicekit.consumer import Subscription
from kontor_servicekit.privacy.participant import privacy_subscription

from kontor_analytics.application.privacy import AnalyticsPrivacy
from kontor_analytics.store.unit_of_work import MongoAnalyticsUnitOfWork


def privacy_participant(clock: Clock) -> Subscription:
    return privacy_subscription(
        "analytics", AnalyticsPrivacy(), unit_of_work=MongoAnalyticsUnitOfWork, clock=clock
    )
