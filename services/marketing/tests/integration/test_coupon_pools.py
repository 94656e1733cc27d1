"""Handing out a coupon pool's codes over the real database (ADR 0118): dispatches that
take a code at the same moment in their own transactions never hand out one code twice;
the pool counts what was handed out, and a used-up pool can be topped up."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kontor_marketing.application.coupon_pools import hand_out
from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.context import MarketingContext
from kontor_servicekit.context import context_of

pytestmark = pytest.mark.integration


async def test_concurrent_dispatches_hand_out_each_code_once(start_service: Any) -> None:
    async with start_service("marketing") as marketing:
        made = await marketing.client.post(
            "/coupon-pools", json={"prefix": "DUO", "count": 2, "percent_off": "10"}
        )
        assert made.status_code == 201, made.text
        pool_id = made.json()["id"]
        ctx = context_of(marketing.app, MarketingContext)

        async def take(n: int) -> str | None:
            async def work(uow: MarketingUnitOfWork) -> str | None:
                code = await hand_out(
                    uow, pool_id, campaign_id=f"c-{n}", email=f"p{n}@example.de", now=ctx.clock()
                )
                await asyncio.sleep(0.05)  # the transactions overlap
                return code

            return await ctx.transactor.run(work)

        got = await asyncio.gather(*(take(n) for n in range(5)))
        handed = [code for code in got if code is not None]
        assert len(handed) == 2 and len(set(handed)) == 2, got  # 3 found the pool exhausted
        shown = (await marketing.client.get(f"/coupon-pools/{pool_id}")).json()
        assert (shown["generated"], shown["assigned"], shown["redeemed"]) == (2, 2, 0)
        missing = await marketing.client.get("/coupon-pools/no-such-pool")
        assert missing.status_code == 404

        # used up: a top-up with the same rules, and the next person gets a new code
        assert await take(9) is None
        more = await marketing.client.post(f"/coupon-pools/{pool_id}/codes", json={"count": 1})
        assert more.status_code == 200, more.text
        assert (more.json()["generated"], more.json()["assigned"]) == (3, 2)
        last = await take(9)
        assert last is not None and last not in handed and last.startswith("DUO-")
        none = await marketing.client.post("/coupon-pools/no-such-pool/codes", json={"count": 1})
        assert none.status_code == 404
