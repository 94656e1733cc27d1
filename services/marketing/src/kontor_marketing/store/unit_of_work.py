"""Marketing's unit of work over one MongoDB transaction."""

from __future__ import annotations

from kontor_servicekit.store import Transaction
from kontor_servicekit.uow import MongoUnitOfWork

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
from kontor_marketing.store.campaigns import (
    MongoCampaignRepository,
    MongoConversions,
    MongoEngagementLog,
)
from kontor_marketing.store.catalog import MongoCatalogCategories
from kontor_marketing.store.consents import MongoConsentRepository
from kontor_marketing.store.coupon_pools import MongoCouponPools, MongoPoolCodes
from kontor_marketing.store.coupons import MongoCouponRepository
from kontor_marketing.store.early_refunds import MongoEarlyRefunds
from kontor_marketing.store.mails import MongoMailQueue
from kontor_marketing.store.profiles import (
    MongoProfileRepository,
    MongoSegmentEntries,
    MongoSegmentRepository,
)
from kontor_marketing.store.stock_alerts import MongoStockAlerts
from kontor_marketing.store.suppressions import MongoSuppressions


class MongoMarketingUnitOfWork(MongoUnitOfWork):
    def __init__(self, tx: Transaction) -> None:
        super().__init__(tx)
        self.consents: ConsentRepository = MongoConsentRepository(tx)
        self.mails: MailQueue = MongoMailQueue(tx)
        self.coupons: CouponRepository = MongoCouponRepository(tx)
        self.coupon_pools: CouponPoolRepository = MongoCouponPools(tx)
        self.pool_codes: PoolCodeRepository = MongoPoolCodes(tx)
        self.profiles: ProfileRepository = MongoProfileRepository(tx)
        self.segments: SegmentRepository = MongoSegmentRepository(tx)
        self.campaigns: CampaignRepository = MongoCampaignRepository(tx)
        self.engagements: EngagementLog = MongoEngagementLog(tx)
        self.conversions: ConversionRepository = MongoConversions(tx)
        self.suppressions: SuppressionList = MongoSuppressions(tx)
        self.segment_entries: SegmentEntries = MongoSegmentEntries(tx)
        self.stock_alerts: StockAlerts = MongoStockAlerts(tx)
        self.catalog: CatalogCategories = MongoCatalogCategories(tx)
        self.early_refunds: EarlyRefunds = MongoEarlyRefunds(tx)
