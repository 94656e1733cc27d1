"""What marketing's use cases need of the database.

Implemented over MongoDB in ``store/unit_of_work.py`` and in memory in
``store/memory.py``. Each repository the features need is a Protocol here and an
attribute of :class:`MarketingUnitOfWork`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from kontor_servicekit.uow import UnitOfWork

from kontor_marketing.domain.campaign import Campaign, Engagement
from kontor_marketing.domain.consent import Consent
from kontor_marketing.domain.coupon import Coupon
from kontor_marketing.domain.coupon_pool import CouponPool, PoolCode, PoolCounts
from kontor_marketing.domain.feedback import Suppression
from kontor_marketing.domain.mail import QueuedMail
from kontor_marketing.domain.profile import Profile, Segment
from kontor_marketing.domain.results import Conversion
from kontor_marketing.domain.segment_flows import SegmentEntry
from kontor_marketing.domain.stock_alerts import StockAlert


class ConsentRepository(Protocol):
    async def get(self, email: str) -> Consent | None: ...

    async def save(self, consent: Consent) -> None: ...

    async def delete(self, email: str) -> bool: ...


class SuppressionList(Protocol):
    async def get(self, email: str) -> Suppression | None: ...

    async def add(self, suppression: Suppression) -> bool:
        """Suppress the address; an address suppressed already keeps its first reason
        (answers False)."""
        ...

    async def delete(self, email: str) -> bool: ...


class MailQueue(Protocol):
    async def add(self, mail: QueuedMail) -> None: ...

    async def get(self, mail_id: str) -> QueuedMail | None: ...

    async def save(self, mail: QueuedMail) -> None: ...

    async def due(self, now: datetime, limit: int) -> list[QueuedMail]:
        """Queued mails whose time has come and claims whose lease ran out, oldest first."""
        ...

    async def delete_to(self, email: str) -> int:
        """Forget every mail to ``email`` (erasure); answers how many."""
        ...

    async def to(self, email: str) -> list[QueuedMail]:
        """Every mail queued or sent to ``email``, oldest first (export)."""
        ...

    async def campaign_recipients(self, campaign_id: str) -> set[str]:
        """Everyone a mail of the campaign was queued for."""
        ...

    async def waiting_flow(self, email: str, flow: str) -> list[QueuedMail]:
        """Queued mails of ``flow`` to ``email`` not sent yet."""
        ...

    async def of_flow(self, email: str, flow: str) -> list[QueuedMail]:
        """Every mail of ``flow`` to ``email``, whatever became of it."""
        ...

    async def campaign_mails_since(self, emails: list[str], since: datetime) -> dict[str, int]:
        """Campaign mails queued or sent to each of ``emails`` since ``since`` (the cap)."""
        ...


class CouponRepository(Protocol):
    async def get(self, code: str) -> Coupon | None: ...

    async def add(self, coupon: Coupon) -> None:
        """Insert; an existing code is a Conflict (unique)."""
        ...

    async def save(self, coupon: Coupon) -> None: ...


class CouponPoolRepository(Protocol):
    async def get(self, pool_id: str) -> CouponPool | None: ...

    async def add(self, pool: CouponPool) -> None: ...

    async def save(self, pool: CouponPool) -> None: ...


class PoolCodeRepository(Protocol):
    """The codes of coupon pools, each handed to one person at most (ADR 0118)."""

    async def add_all(self, codes: list[PoolCode]) -> None:
        """Store new codes (Conflict when one exists already)."""
        ...

    async def get(self, code: str) -> PoolCode | None: ...

    async def held(self, pool_id: str, campaign_id: str, email: str) -> PoolCode | None:
        """The pool's code ``email`` was given for ``campaign_id``, if any."""
        ...

    async def next_free(self, pool_id: str) -> PoolCode | None:
        """A code of the pool no one was given yet (None: the pool is exhausted)."""
        ...

    async def save(self, code: PoolCode) -> None: ...

    async def counts(self, pool_id: str) -> PoolCounts:
        """How many of the pool's codes were generated, handed out and used."""
        ...

    async def of(self, email: str) -> list[PoolCode]: ...

    async def forget(self, email: str) -> int:
        """Remove the address from the codes handed to it (they stay handed out)."""
        ...


class ProfileRepository(Protocol):
    async def get(self, email: str) -> Profile | None: ...

    async def by_order(self, order_id: str) -> Profile | None: ...

    async def by_ticket(self, ticket_id: str) -> Profile | None: ...

    async def save(self, profile: Profile) -> None: ...

    async def all(self) -> list[Profile]: ...

    async def delete(self, email: str) -> bool: ...

    async def in_segment(self, segment_id: str) -> list[Profile]: ...


class SegmentRepository(Protocol):
    async def add(self, segment: Segment) -> None: ...

    async def save(self, segment: Segment) -> None: ...

    async def all(self) -> list[Segment]: ...

    async def get(self, segment_id: str) -> Segment | None: ...


class SegmentEntries(Protocol):
    async def add(self, entry: SegmentEntry) -> None: ...

    async def oldest(self, limit: int) -> list[SegmentEntry]: ...

    async def delete(self, entry_id: str) -> None: ...

    async def delete_of(self, email: str) -> int: ...


class StockAlerts(Protocol):
    async def save(self, alert: StockAlert) -> None:
        """Insert or replace (one per person and article)."""
        ...

    async def waiting_for(self, sku: str) -> list[StockAlert]: ...

    async def of(self, email: str) -> list[StockAlert]: ...

    async def delete_of(self, email: str) -> int: ...


class CatalogCategories(Protocol):
    async def set(self, sku: str, category: str | None, occurred_at: datetime) -> None:
        """The article's category, unless a newer event set it already."""
        ...

    async def of(self, skus: list[str]) -> dict[str, str]:
        """The categories known of ``skus`` (articles without one are left out)."""
        ...


class EarlyRefunds(Protocol):
    """Refunds of orders not folded yet: returns and orders travel on different topics,
    so a catch-up or a rebuild can read a return before its order (ADR 0112)."""

    async def park(self, return_id: str, order_id: str, amount: Decimal, at: datetime) -> None: ...

    async def take(self, order_id: str) -> list[tuple[Decimal, datetime]]:
        """The parked refunds of the order (amount, when), removed."""
        ...


class CampaignRepository(Protocol):
    async def get(self, campaign_id: str) -> Campaign | None: ...

    async def save(self, campaign: Campaign) -> None: ...

    async def due(self, now: datetime) -> list[Campaign]: ...

    async def by_coupon(self, code: str) -> Campaign | None:
        """The newest sent campaign that carried ``code``."""
        ...


class EngagementLog(Protocol):
    async def add(self, engagement: Engagement) -> None: ...

    async def delete_of(self, email: str) -> int: ...

    async def last_click(
        self, email: str, since: datetime, before: datetime
    ) -> Engagement | None: ...

    async def people(self, campaign_id: str, kind: str) -> dict[str, int]:
        """Distinct people per variant who did ``kind`` (open, click) in the campaign."""
        ...

    async def of(self, emails: list[str] | None, since: datetime) -> list[Engagement]:
        """Opens and clicks since ``since`` of ``emails`` (None: everyone's)."""
        ...

    async def all_of(self, email: str) -> list[Engagement]:
        """Every open, click and unsubscribe of ``email``, oldest first (export)."""
        ...


class ConversionRepository(Protocol):
    async def get(self, order_id: str) -> Conversion | None: ...

    async def save(self, conversion: Conversion) -> None: ...

    async def of(self, email: str) -> list[Conversion]:
        """The orders of ``email`` attributed to a campaign, oldest first (export)."""
        ...

    async def delete_of(self, email: str) -> int: ...


class MarketingUnitOfWork(UnitOfWork, Protocol):
    """The repositories of marketing plus the outbox and sequences."""

    consents: ConsentRepository
    mails: MailQueue
    coupons: CouponRepository
    coupon_pools: CouponPoolRepository
    pool_codes: PoolCodeRepository
    profiles: ProfileRepository
    segments: SegmentRepository
    campaigns: CampaignRepository
    engagements: EngagementLog
    conversions: ConversionRepository
    suppressions: SuppressionList
    segment_entries: SegmentEntries
    stock_alerts: StockAlerts
    catalog: CatalogCategories
    early_refunds: EarlyRefunds
