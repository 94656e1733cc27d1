"""Marketing's unit of work in memory: the unit tests' database."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from kontor_servicekit.fakes import FakeDatabase, FakeUnitOfWork, InMemoryTable

from kontor_marketing.application.unit_of_work import (
    CampaignRepository,
    CatalogCategories,
    ConsentRepository,
    ConversionRepository,
    CouponPoolRepository,
    CouponRepository,
    EarlyRefunds,
    EngagementLog,
    MailQueue,
    PoolCodeRepository,
    ProfileRepository,
    SegmentEntries,
    SegmentRepository,
    StockAlerts,
    SuppressionList,
)
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


class InMemoryConsents:
    def __init__(self, table: InMemoryTable[Consent]) -> None:
        self.table = table

    async def get(self, email: str) -> Consent | None:
        return self.table.get(email)

    async def save(self, consent: Consent) -> None:
        self.table.put(consent)

    async def delete(self, email: str) -> bool:
        return self.table.delete(email)


class InMemorySuppressions:
    def __init__(self, table: InMemoryTable[Suppression]) -> None:
        self.table = table

    async def get(self, email: str) -> Suppression | None:
        return self.table.get(email)

    async def add(self, suppression: Suppression) -> bool:
        if self.table.get(suppression.email) is not None:
            return False
        self.table.put(suppression)
        return True

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

    async def campaign_recipients(self, campaign_id: str) -> set[str]:
        return {m.mail.to for m in self.table if m.campaign_id == campaign_id}

    async def waiting_flow(self, email: str, flow: str) -> list[QueuedMail]:
        return self.table.where(
            lambda m: m.mail.to == email and m.status == "queued" and m.meta.get("flow") == flow
        )

    async def of_flow(self, email: str, flow: str) -> list[QueuedMail]:
        return self.table.where(lambda m: m.mail.to == email and m.meta.get("flow") == flow)

    async def campaign_mails_since(self, emails: list[str], since: datetime) -> dict[str, int]:
        counts: dict[str, int] = {}
        for m in self.table:
            if (
                m.mail.to in emails
                and m.kind == "campaign"
                and m.created_at >= since
                and m.status in {"queued", "sending", "sent"}
            ):
                counts[m.mail.to] = counts.get(m.mail.to, 0) + 1
        return counts

    async def to(self, email: str) -> list[QueuedMail]:
        return sorted(self.table.where(lambda m: m.mail.to == email), key=lambda m: m.created_at)

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


class InMemoryCouponPools:
    def __init__(self, table: InMemoryTable[CouponPool]) -> None:
        self.table = table

    async def get(self, pool_id: str) -> CouponPool | None:
        return self.table.get(pool_id)

    async def add(self, pool: CouponPool) -> None:
        self.table.insert(pool)

    async def save(self, pool: CouponPool) -> None:
        self.table.put(pool)


class InMemoryPoolCodes:
    def __init__(self, table: InMemoryTable[PoolCode]) -> None:
        self.table = table

    async def add_all(self, codes: list[PoolCode]) -> None:
        for code in codes:
            self.table.insert(code)

    async def get(self, code: str) -> PoolCode | None:
        return self.table.get(code)

    async def held(self, pool_id: str, campaign_id: str, email: str) -> PoolCode | None:
        found = self.table.where(
            lambda c: (c.pool_id, c.campaign_id, c.email) == (pool_id, campaign_id, email)
        )
        return found[0] if found else None

    async def next_free(self, pool_id: str) -> PoolCode | None:
        found = self.table.where(lambda c: c.pool_id == pool_id and c.free)
        return min(found, key=lambda c: c.code) if found else None

    async def save(self, code: PoolCode) -> None:
        self.table.put(code)

    async def counts(self, pool_id: str) -> PoolCounts:
        codes = self.table.where(lambda c: c.pool_id == pool_id)
        return PoolCounts(
            len(codes), sum(not c.free for c in codes), sum(c.order_id is not None for c in codes)
        )

    async def of(self, email: str) -> list[PoolCode]:
        return self.table.where(lambda c: c.email == email)

    async def forget(self, email: str) -> int:
        held = self.table.where(lambda c: c.email == email)
        for code in held:
            code.email = None
            self.table.put(code)
        return len(held)


class InMemoryProfiles:
    def __init__(self, table: InMemoryTable[Profile]) -> None:
        self.table = table

    async def get(self, email: str) -> Profile | None:
        return self.table.get(email)

    async def by_order(self, order_id: str) -> Profile | None:
        found = self.table.where(lambda p: order_id in p.orders)
        return found[0] if found else None

    async def by_ticket(self, ticket_id: str) -> Profile | None:
        found = self.table.where(lambda p: ticket_id in p.tickets)
        return found[0] if found else None

    async def save(self, profile: Profile) -> None:
        self.table.put(profile)

    async def all(self) -> list[Profile]:
        return list(self.table)

    async def delete(self, email: str) -> bool:
        return self.table.delete(email)

    async def in_segment(self, segment_id: str) -> list[Profile]:
        return sorted(self.table.where(lambda p: segment_id in p.segments), key=lambda p: p.email)


class InMemorySegments:
    def __init__(self, table: InMemoryTable[Segment]) -> None:
        self.table = table

    async def add(self, segment: Segment) -> None:
        self.table.insert(segment)

    async def save(self, segment: Segment) -> None:
        self.table.put(segment)

    async def all(self) -> list[Segment]:
        return list(self.table)

    async def get(self, segment_id: str) -> Segment | None:
        return self.table.get(segment_id)


class InMemorySegmentEntries:
    def __init__(self, table: InMemoryTable[SegmentEntry]) -> None:
        self.table = table

    async def add(self, entry: SegmentEntry) -> None:
        self.table.insert(entry)

    async def oldest(self, limit: int) -> list[SegmentEntry]:
        return sorted(self.table, key=lambda e: e.at)[:limit]

    async def delete(self, entry_id: str) -> None:
        self.table.delete(entry_id)

    async def delete_of(self, email: str) -> int:
        gone = [e.id for e in self.table if e.email == email]
        for entry_id in gone:
            self.table.delete(entry_id)
        return len(gone)


class InMemoryStockAlerts:
    def __init__(self, table: InMemoryTable[StockAlert]) -> None:
        self.table = table

    async def save(self, alert: StockAlert) -> None:
        self.table.put(alert)

    async def waiting_for(self, sku: str) -> list[StockAlert]:
        return self.table.where(lambda a: a.sku == sku and a.status == "waiting")

    async def of(self, email: str) -> list[StockAlert]:
        return self.table.where(lambda a: a.email == email)

    async def delete_of(self, email: str) -> int:
        gone = [a.id for a in self.table if a.email == email]
        for alert_id in gone:
            self.table.delete(alert_id)
        return len(gone)


class InMemoryCatalogCategories:
    def __init__(self, rows: dict[str, tuple[datetime, str | None]]) -> None:
        self.rows = rows

    async def set(self, sku: str, category: str | None, occurred_at: datetime) -> None:
        current = self.rows.get(sku)
        if current is None or current[0] <= occurred_at:
            self.rows[sku] = (occurred_at, category)

    async def of(self, skus: list[str]) -> dict[str, str]:
        found = {sku: self.rows[sku][1] for sku in skus if sku in self.rows}
        return {sku: category for sku, category in found.items() if category}


class InMemoryEarlyRefunds:
    def __init__(self, rows: dict[str, tuple[str, Decimal, datetime]]) -> None:
        self.rows = rows

    async def park(self, return_id: str, order_id: str, amount: Decimal, at: datetime) -> None:
        self.rows[return_id] = (order_id, amount, at)

    async def take(self, order_id: str) -> list[tuple[Decimal, datetime]]:
        mine = sorted(rid for rid, row in self.rows.items() if row[0] == order_id)
        return [self.rows.pop(rid)[1:] for rid in mine]


class InMemoryCampaigns:
    def __init__(self, table: InMemoryTable[Campaign]) -> None:
        self.table = table

    async def get(self, campaign_id: str) -> Campaign | None:
        return self.table.get(campaign_id)

    async def save(self, campaign: Campaign) -> None:
        self.table.put(campaign)

    async def due(self, now: datetime) -> list[Campaign]:
        return self.table.where(lambda c: c.due(now))

    async def by_coupon(self, code: str) -> Campaign | None:
        found = self.table.where(lambda c: c.coupon_code == code and c.status == "sent")
        return max(found, key=lambda c: c.sent_at or c.created_at) if found else None


class InMemoryEngagements:
    def __init__(self, rows: list[Engagement]) -> None:
        self.rows = rows

    async def add(self, engagement: Engagement) -> None:
        self.rows.append(engagement)

    async def delete_of(self, email: str) -> int:
        gone = [e for e in self.rows if e.email == email]
        self.rows[:] = [e for e in self.rows if e.email != email]
        return len(gone)

    async def last_click(self, email: str, since: datetime, before: datetime) -> Engagement | None:
        found = [
            e
            for e in self.rows
            if e.email == email and e.kind == "click" and since <= e.at <= before
        ]
        return max(found, key=lambda e: e.at) if found else None

    async def people(self, campaign_id: str, kind: str) -> dict[str, int]:
        seen = {
            (e.variant, e.email)
            for e in self.rows
            if e.campaign_id == campaign_id and e.kind == kind
        }
        counts: dict[str, int] = {}
        for variant, _ in seen:
            counts[str(variant)] = counts.get(str(variant), 0) + 1
        return counts

    async def all_of(self, email: str) -> list[Engagement]:
        return sorted((e for e in self.rows if e.email == email), key=lambda e: e.at)

    async def of(self, emails: list[str] | None, since: datetime) -> list[Engagement]:
        return [
            e
            for e in self.rows
            if e.kind in {"open", "click"}
            and e.at >= since
            and (emails is None or e.email in emails)
        ]


class InMemoryConversions:
    def __init__(self, table: InMemoryTable[Conversion]) -> None:
        self.table = table

    async def get(self, order_id: str) -> Conversion | None:
        return self.table.get(order_id)

    async def save(self, conversion: Conversion) -> None:
        self.table.put(conversion)

    async def of(self, email: str) -> list[Conversion]:
        return sorted(self.table.where(lambda c: c.email == email), key=lambda c: c.at)

    async def delete_of(self, email: str) -> int:
        gone = [c.order_id for c in self.table.where(lambda c: c.email == email)]
        for order_id in gone:
            self.table.delete(order_id)
        return len(gone)


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
        self.coupon_pools: CouponPoolRepository = InMemoryCouponPools(
            self.table("coupon_pools", key=lambda p: p.id)
        )
        self.pool_codes: PoolCodeRepository = InMemoryPoolCodes(
            self.table("coupon_pool_codes", key=lambda c: c.code)
        )
        self.profiles: ProfileRepository = InMemoryProfiles(
            self.table("profiles", key=lambda p: p.email)
        )
        self.segments: SegmentRepository = InMemorySegments(
            self.table("segments", key=lambda s: s.id)
        )
        self.campaigns: CampaignRepository = InMemoryCampaigns(
            self.table("campaigns", key=lambda c: c.id)
        )
        self.engagements: EngagementLog = InMemoryEngagements(
            self.db.tables.setdefault("engagements", {}).setdefault("rows", [])
        )
        self.conversions: ConversionRepository = InMemoryConversions(
            self.table("conversions", key=lambda c: c.order_id)
        )
        self.suppressions: SuppressionList = InMemorySuppressions(
            self.table("suppressions", key=lambda s: s.email)
        )
        self.segment_entries: SegmentEntries = InMemorySegmentEntries(
            self.table("segment_entries", key=lambda e: e.id)
        )
        self.stock_alerts: StockAlerts = InMemoryStockAlerts(
            self.table("stock_alerts", key=lambda a: a.id)
        )
        self.catalog: CatalogCategories = InMemoryCatalogCategories(
            self.db.tables.setdefault("catalog_categories", {})
        )
        self.early_refunds: EarlyRefunds = InMemoryEarlyRefunds(
            self.db.tables.setdefault("early_refunds", {})
        )
