"""What marketing's use cases need of the database.

Implemented over MongoDB in ``store/unit_of_work.py`` and in memory in
``store/memory.py``. Each repository the features need is a Protocol here and an
attribute of :class:`MarketingUnitOfWork`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from kontor_servicekit.uow import UnitOfWork

from kontor_marketing.domain.consent import Consent
from kontor_marketing.domain.coupon import Coupon
from kontor_marketing.domain.mail import QueuedMail
from kontor_marketing.domain.profile import Profile, Segment


class ConsentRepository(Protocol):
    async def get(self, email: str) -> Consent | None: ...

    async def save(self, consent: Consent) -> None: ...

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


class CouponRepository(Protocol):
    async def get(self, code: str) -> Coupon | None: ...

    async def add(self, coupon: Coupon) -> None:
        """Insert; an existing code is a Conflict (unique)."""
        ...

    async def save(self, coupon: Coupon) -> None: ...


class ProfileRepository(Protocol):
    async def get(self, email: str) -> Profile | None: ...

    async def by_order(self, order_id: str) -> Profile | None: ...

    async def save(self, profile: Profile) -> None: ...

    async def all(self) -> list[Profile]: ...

    async def delete(self, email: str) -> bool: ...


class SegmentRepository(Protocol):
    async def add(self, segment: Segment) -> None: ...

    async def all(self) -> list[Segment]: ...


class MarketingUnitOfWork(UnitOfWork, Protocol):
    """The repositories of marketing plus the outbox and sequences."""

    consents: ConsentRepository
    mails: MailQueue
    coupons: CouponRepository
    profiles: ProfileRepository
    segments: SegmentRepository
