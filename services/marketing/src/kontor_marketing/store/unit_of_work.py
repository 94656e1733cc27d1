"""Marketing's unit of work over one MongoDB transaction."""

from __future__ import annotations

from kontor_servicekit.store import Transaction
from kontor_servicekit.uow import MongoUnitOfWork

from kontor_marketing.application.unit_of_work import (
    ConsentRepository,
    CouponRepository,
    MailQueue,
)
from kontor_marketing.store.consents import MongoConsentRepository
from kontor_marketing.store.coupons import MongoCouponRepository
from kontor_marketing.store.mails import MongoMailQueue


class MongoMarketingUnitOfWork(MongoUnitOfWork):
    def __init__(self, tx: Transaction) -> None:
        super().__init__(tx)
        self.consents: ConsentRepository = MongoConsentRepository(tx)
        self.mails: MailQueue = MongoMailQueue(tx)
        self.coupons: CouponRepository = MongoCouponRepository(tx)
