"""Marketing's container: what its routes are built with (see ``main.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from kontor_servicekit.clock import Clock
from kontor_servicekit.context import context_dependency
from kontor_servicekit.domain_errors import Unavailable
from kontor_servicekit.idempotency import Answers
from kontor_servicekit.ratelimit import RateLimiter
from kontor_servicekit.uow import Transactor

from kontor_marketing.application.campaigns import CampaignLinks
from kontor_marketing.application.consent import ConsentLinks
from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.store.queries import MarketingQueries


@dataclass
class MarketingContext:
    transactor: Transactor[MarketingUnitOfWork]
    queries: MarketingQueries
    clock: Clock
    answers: Answers
    public_limiter: RateLimiter
    links: ConsentLinks | None
    """None: no link secret (nor privacy key) is set; the public routes answer 503."""
    imprint: str
    utm_source: str = "kontor"
    """``utm_source`` of the click redirects' targets (ADR 0121)."""

    def campaign_links(self) -> CampaignLinks:
        return CampaignLinks(self.consent_links(), self.utm_source)

    def consent_links(self) -> ConsentLinks:
        if self.links is None:
            raise Unavailable(
                "marketing has no link secret: set KONTOR_MARKETING_LINK_SECRET or the "
                "privacy master key"
            )
        return self.links


Context = Annotated[MarketingContext, Depends(context_dependency(MarketingContext))]
