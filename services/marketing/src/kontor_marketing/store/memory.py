"""Marketing's unit of work in memory: the unit tests' database."""

from __future__ import annotations

from datetime import datetime

from kontor_servicekit.fakes import FakeDatabase, FakeUnitOfWork, InMemoryTable

from kontor_marketing.application.unit_of_work import (
    ConsentRepository,
    CouponRepository,
    MailQueue,
    ProfileRepository,
    SegmentRepository,
)
from kontor_marketing.domain.consent import Consent
from kontor_marketing.domain.coupon import Coupon
from kontor_marketing.domain.mail import QueuedMail
from kontor_marketing.domain.profile import Profile, Segment


class InMemoryConsents:
    def __init__(self, table: InMemoryTable[Consent]) -> None:
        self.table = table

    async def get(self, email: str) -> Consent | None:
        return self.table.get(email)

    async def save(self, consent: Consent) -> None:
        self.table.put(consent)

    async def delete(self, email: str) -> bool:
        return self.table.delete(email)


class InMemoryMailQueue:
    def __init__(self, table: InMemoryTable[QueuedMail]) -> None:
        self.table = table

    async def add(self, mail: QueuedMail) -> None:
        self.table.insert(mail)

    async def get(self, mail_id: str) -> QueuedMail | None:
        return self.table.get(mail_id)

    async def save(self, mail: QueuedMail) -> None:
        self.table.put(mail)

    async def due(self, now: datetime, limit: int) -> list[QueuedMail]:
        return sorted(self.table.where(lambda m: m.due(now)), key=lambda m: m.created_at)[:limit]

    async def delete_to(self, email: str) -> int:
        gone = [m.id for m in self.table.where(lambda m: m.mail.to == email)]
        for mail_id in gone:
            self.table.delete(mail_id)
        return len(gone)


class InMemoryCoupons:
    def __init__(self, table: InMemoryTable[Coupon]) -> None:
        self.table = table

    async def get(self, code: str) -> Coupon | None:
        return self.table.get(code)

    async def add(self, coupon: Coupon) -> None:
        self.table.insert(coupon)

    async def save(self, coupon: Coupon) -> None:
        self.table.put(coupon)


class InMemoryProfiles:
    def __init__(self, table: InMemoryTable[Profile]) -> None:
        self.table = table

    async def get(self, email: str) -> Profile | None:
        return self.table.get(email)

    async def by_order(self, order_id: str) -> Profile | None:
        found = self.table.where(lambda p: order_id in p.orders)
        return found[0] if found else None

    async def save(self, profile: Profile) -> None:
        self.table.put(profile)

    async def all(self) -> list[Profile]:
        return list(self.table)

    async def delete(self, email: str) -> bool:
        return self.table.delete(email)


class InMemorySegments:
    def __init__(self, table: InMemoryTable[Segment]) -> None:
        self.table = table

    async def add(self, segment: Segment) -> None:
        self.table.insert(segment)

    async def all(self) -> list[Segment]:
        return list(self.table)


class InMemoryMarketingUnitOfWork(FakeUnitOfWork):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db)
        self.consents: ConsentRepository = InMemoryConsents(
            self.table("consents", key=lambda c: c.email)
        )
        self.mails: MailQueue = InMemoryMailQueue(self.table("mails", key=lambda m: m.id))
        self.coupons: CouponRepository = InMemoryCoupons(
            self.table("coupons", key=lambda c: c.code)
        )
        self.profiles: ProfileRepository = InMemoryProfiles(
            self.table("profiles", key=lambda p: p.email)
        )
        self.segments: SegmentRepository = InMemorySegments(
            self.table("segments", key=lambda s: s.id)
        )
