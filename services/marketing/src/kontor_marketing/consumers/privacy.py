"""Subscription ``marketing.privacy``: marketing answers privacy requests (issue 13)."""

from __future__ import annotations

from kontor_servicekit.clock import Clock
from kontor_servicekit.consumer import Subscription
from kontor_servicekit.privacy.participant import privacy_subscription

from kontor_marketing.application.privacy import MarketingPrivacy
from kontor_marketing.store.unit_of_work import MongoMarketingUnitOfWork


def privacy_participant(clock: Clock) -> Subscription:
    return privacy_subscription(
        "marketing", MarketingPrivacy(), unit_of_work=MongoMarketingUnitOfWork, clock=clock
    )
