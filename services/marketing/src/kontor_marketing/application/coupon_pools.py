"""Coupon pools: define N unique single-use codes, announce them to orders in batches,
and hand one to each recipient of a campaign as their mail is queued (ADR 0118).

The pool's codes travel as ``CouponCodesIssued`` on ``marketing.coupon.v1`` (key: the
pool id), at most :data:`BATCH` per event, each batch with the pool's rules; orders
keeps every code as a single-use coupon of those rules and redeems it once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kontor_contracts.events.marketing import CouponCodesIssued
from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.uow import Transactor

from kontor_marketing.application.coupons import rules_of
from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.domain.coupon_pool import (
    BATCH,
    CouponPool,
    PoolCode,
    PoolCounts,
    code_for,
    generate_codes,
)


@dataclass(frozen=True)
class DefinePool:
    prefix: str
    count: int
    percent: Decimal | None
    value: Decimal | None
    currency: str = "EUR"
    minimum_order_value: Decimal | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    campaign_id: str | None = None
    product_skus: tuple[str, ...] = ()
    category_ids: tuple[str, ...] = ()


async def define_pool(
    transactor: Transactor[MarketingUnitOfWork], command: DefinePool, *, clock: Clock
) -> CouponPool:
    async def work(uow: MarketingUnitOfWork) -> CouponPool:
        pool = CouponPool.define(pool_id=str(uuid.uuid4()), now=clock(), **command.__dict__)
        await _issue(uow, pool, pool.generate())
        await uow.coupon_pools.add(pool)
        return pool

    return await transactor.run(work)


async def add_codes(
    transactor: Transactor[MarketingUnitOfWork], pool_id: str, count: int
) -> tuple[CouponPool, PoolCounts]:
    """``count`` more codes of the pool's rules, announced as the first ones were; the
    pool and its counts after."""

    async def work(uow: MarketingUnitOfWork) -> tuple[CouponPool, PoolCounts]:
        pool = await uow.coupon_pools.get(pool_id)
        if pool is None:
            raise NotFound("coupon pool", pool_id)
        pool.grow(count)
        await _issue(uow, pool, generate_codes(pool.prefix, count))
        await uow.coupon_pools.save(pool)
        return pool, await uow.pool_codes.counts(pool_id)

    return await transactor.run(work)


async def _issue(uow: MarketingUnitOfWork, pool: CouponPool, codes: list[str]) -> None:
    """Store new codes of ``pool`` and announce them to orders in batches."""
    await uow.pool_codes.add_all([PoolCode(code=c, pool_id=pool.id) for c in codes])
    rules = rules_of(pool.rules)
    starts = range(0, len(codes), BATCH)
    for batch, start in zip(pool.announced(len(starts)), starts, strict=True):
        uow.emit(
            CouponCodesIssued(
                pool_id=pool.id, codes=codes[start : start + BATCH], batch=batch, **rules
            ),
            aggregate_id=pool.id,
        )


async def hand_out(
    uow: MarketingUnitOfWork, pool_id: str, *, campaign_id: str, email: str, now: datetime
) -> str | None:
    """The pool's code for ``email`` in ``campaign_id``'s mail, assigned in the caller's
    transaction (the one queuing the mail); the same code again for the same person and
    campaign; None when the pool has no free code left."""
    held = await uow.pool_codes.held(pool_id, campaign_id, email)
    free = None if held is not None else await uow.pool_codes.next_free(pool_id)
    code = code_for(held, free, email=email, campaign_id=campaign_id, now=now)
    if code is None:
        return None
    if held is None:
        await uow.pool_codes.save(code)
    return code.code
