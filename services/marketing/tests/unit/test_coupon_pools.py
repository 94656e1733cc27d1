"""Coupon pools (issue 15, ADR 0118): codes generated unique and well-formed, announced in
batches with the pool's rules; a campaign hands each recipient one code, once per person
and campaign; an exhausted pool skips the person with a recorded reason; a redemption is
reported with the campaign and attributed to it."""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from kontor_contracts.events.marketing import CouponCodesIssued, CouponRedeemed
from kontor_contracts.samples import order_placed_envelope
from kontor_marketing.application import coupons as coupon_use
from kontor_marketing.application.campaigns import (
    CampaignLinks,
    DraftCampaign,
    SendRules,
    create_campaign,
    dispatch_due,
    schedule_campaign,
)
from kontor_marketing.application.consent import ConsentLinks
from kontor_marketing.application.coupon_pools import (
    DefinePool,
    add_codes,
    define_pool,
    hand_out,
)
from kontor_marketing.application.coupons import DefineCoupon, define_coupon
from kontor_marketing.application.profiles import create_segment, on_order_placed
from kontor_marketing.domain.campaign import QuietHours, pools_in, unknown_placeholders
from kontor_marketing.domain.coupon_pool import (
    ALPHABET,
    CouponPool,
    PoolCode,
    code_for,
    generate_codes,
)
from kontor_marketing.domain.links import LinkSigner
from kontor_marketing.store.memory import InMemoryMarketingUnitOfWork
from kontor_servicekit.domain_errors import Conflict, Invalid
from kontor_servicekit.fakes import FakeTransactor

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 3, 10, tzinfo=UTC)
LINKS = CampaignLinks(
    ConsentLinks(LinkSigner(b"k" * 32), "https://shop.example", timedelta(hours=1))
)
NEVER_QUIET = QuietHours(time(0), time(0), ZoneInfo("Europe/Berlin"))
# offers to existing customers under UWG 7(3): no double opt-in needed for the test
RULES = SendRules(imprint="Kontor GmbH", per_week=5, quiet=NEVER_QUIET, uwg_7_3=True)
WELL_FORMED = re.compile(rf"^WELCOME-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")


def test_generated_codes_are_unique_well_formed_and_avoid_the_taken() -> None:
    codes = generate_codes("WELCOME", 2000)
    assert len(set(codes)) == 2000
    assert all(WELL_FORMED.match(c) for c in codes)
    assert not set("01OIL") & set(ALPHABET)
    # a draw that repeats itself: duplicates and taken codes are drawn again, not kept
    pick = itertools.cycle("22222222222222223333333322223333").__next__
    assert generate_codes("WELCOME", 2, taken={"WELCOME-3333-3333"}, pick=lambda _: pick()) == [
        "WELCOME-2222-2222",
        "WELCOME-2222-3333",
    ]
    with pytest.raises(Conflict):  # a draw that can give only taken codes ends
        generate_codes("WELCOME", 1, taken={"WELCOME-2222-2222"}, pick=lambda _: "2")


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"prefix": "W"}, ("prefix",)),
        ({"prefix": "A" * 23}, ("prefix",)),
        ({"prefix": "WEL COME"}, ("prefix",)),
        ({"count": 0}, ("count",)),
        ({"count": 2_001}, ("count",)),  # one transaction each: more with a top-up
        ({"percent": Decimal("10"), "value": Decimal("5")}, ("percent_off",)),
        ({"valid_until": NOW - timedelta(days=1)}, ("valid_until",)),
        ({"category_ids": ("",)}, ("category_ids", 0)),
    ],
)
def test_a_bad_pool_is_refused_at_its_field(fields: dict[str, Any], path: tuple[Any]) -> None:
    values: dict[str, Any] = {"prefix": "welcome", "count": 3, "percent": Decimal("10")}
    values.update(fields)
    with pytest.raises(Invalid) as refused:
        CouponPool.define(pool_id="p-1", **{"value": None, **values}, currency="EUR", now=NOW)
    assert refused.value.field == path


def test_a_code_is_handed_out_once_per_person_and_campaign() -> None:
    free = PoolCode("WELCOME-2222-3333", "p-1")
    given = code_for(None, free, email="anna@example.de", campaign_id="c-1", now=NOW)
    assert given is free and (free.email, free.campaign_id, free.assigned_at) == (
        "anna@example.de",
        "c-1",
        NOW,
    )
    other = PoolCode("WELCOME-4444-5555", "p-1")
    again = code_for(given, other, email="anna@example.de", campaign_id="c-1", now=NOW)
    assert again is given and other.free  # the held one, no second code
    assert code_for(None, None, email="bert@example.de", campaign_id="c-1", now=NOW) is None
    with pytest.raises(Conflict):
        free.assign("bert@example.de", "c-1", NOW)
    assert free.redeemed("o-1", NOW) and not free.redeemed("o-1", NOW)


def test_the_pool_placeholder_is_known_to_campaigns_only_with_its_pool() -> None:
    body = "Ihr Code {{coupon_code:p-1}} und {{ coupon_code:p-2 }}, {{name}}, {{coupon_code:p-1}}"
    assert pools_in(body, None) == ["p-1", "p-2"]
    assert unknown_placeholders(body) == []
    assert unknown_placeholders("{{vorname}} {{coupon_code}}") == ["vorname"]


async def test_a_pool_is_announced_in_batches_with_its_rules() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    command = DefinePool(
        "welcome", 1001, percent=Decimal("10"), value=None, minimum_order_value=Decimal("20")
    )
    pool = await define_pool(transactor, command, clock=lambda: NOW)
    batches = transactor.db.events(CouponCodesIssued)
    assert [(b.batch, len(b.codes)) for b in batches] == [(0, 500), (1, 500), (2, 1)]
    assert {b.pool_id for b in batches} == {pool.id}
    assert all(
        (b.kind, b.percent, b.minimum_order_value) == ("percent", Decimal("10"), Decimal("20"))
        for b in batches
    )
    announced = [c for b in batches for c in b.codes]
    stored = transactor.db.rows("coupon_pool_codes")
    assert sorted(announced) == sorted(c.code for c in stored) and len(set(announced)) == 1001
    assert all(WELL_FORMED.match(c) for c in announced)
    more, counts = await add_codes(transactor, pool.id, 600)  # a top-up, same rules
    later = transactor.db.events(CouponCodesIssued)[len(batches) :]
    assert [(b.batch, len(b.codes)) for b in later] == [(3, 500), (4, 100)]
    assert (more.count, counts.generated, counts.assigned) == (1601, 1601, 0)
    assert len({c.code for c in transactor.db.rows("coupon_pool_codes")}) == 1601
    with pytest.raises(Invalid) as refused:
        await add_codes(transactor, pool.id, 2001)
    assert refused.value.field == ("count",)
    with pytest.raises(Conflict):  # a pool's code is not defined again as a coupon
        await define_coupon(
            transactor, DefineCoupon(announced[0], Decimal("5"), None), clock=lambda: NOW
        )


async def place(transactor: FakeTransactor[InMemoryMarketingUnitOfWork], email: str) -> None:
    envelope = order_placed_envelope()
    envelope.payload["customer"]["email"] = email
    await transactor.deliver(on_order_placed, envelope.payload_model(), envelope)


async def campaign_with_codes(
    transactor: FakeTransactor[InMemoryMarketingUnitOfWork], count: int, people: list[str]
) -> tuple[str, str]:
    for email in people:
        await place(transactor, email)
    pool = await define_pool(
        transactor, DefinePool("welcome", count, Decimal("10"), None), clock=lambda: NOW
    )
    rule = {"field": "orders", "op": "gte", "value": 1}
    segment = await create_segment(transactor, "Käufer", rule, clock=lambda: NOW)
    draft = DraftCampaign(
        name="Willkommen",
        subject="{{name}}, Ihr Code",
        text=f"Ihr Code: {{{{coupon_code:{pool.id}}}}}",
        topic="offers",
        segment_id=segment.id,
    )
    campaign = await create_campaign(transactor, draft, clock=lambda: NOW)
    await schedule_campaign(transactor, campaign.id, NOW, clock=lambda: NOW)
    return pool.id, campaign.id


async def test_each_recipient_gets_their_own_code_and_an_exhausted_pool_skips() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    people = ["anna@example.de", "bert@example.de", "carla@example.de"]
    pool_id, campaign_id = await campaign_with_codes(transactor, 2, people)
    assert await dispatch_due(transactor, links=LINKS, rules=RULES, clock=lambda: NOW) == 1
    mails = transactor.db.rows("mails")
    sent = [m for m in mails if m.status == "queued"]
    [skipped] = [m for m in mails if m.status == "skipped"]
    codes = transactor.db.rows("coupon_pool_codes")
    held = {c.email: c.code for c in codes if not c.free}
    assert len(sent) == 2 and len(set(held.values())) == 2
    for mail in sent:
        assert f"Ihr Code: {held[mail.mail.to]}" in mail.mail.text
    assert skipped.mail.to not in held
    assert skipped.reason == f"coupon pool {pool_id} has no free code left"
    [campaign] = transactor.db.rows("campaigns")
    assert (campaign.recipients, campaign.skipped_no_code) == (2, 1)

    # the same person and campaign again (a retried dispatch, the A/B rest): the same code
    anna = held["anna@example.de"]

    async def again(uow: InMemoryMarketingUnitOfWork) -> str | None:
        return await hand_out(
            uow, pool_id, campaign_id=campaign_id, email="anna@example.de", now=NOW
        )

    assert await transactor.run(again) == anna
    assert sum(not c.free for c in transactor.db.rows("coupon_pool_codes")) == 2


async def test_a_redeemed_pool_code_is_reported_with_and_attributed_to_its_campaign() -> None:
    transactor = FakeTransactor(InMemoryMarketingUnitOfWork)
    _, campaign_id = await campaign_with_codes(transactor, 5, ["anna@example.de"])
    await dispatch_due(transactor, links=LINKS, rules=RULES, clock=lambda: NOW)
    [code] = [c.code for c in transactor.db.rows("coupon_pool_codes") if not c.free]
    envelope = order_placed_envelope(number=7)
    envelope.payload["customer"]["email"] = "anna@example.de"
    envelope.payload["coupon_codes"] = [code]
    envelope.payload["coupon_discounts"] = {code: "2.38"}
    order = envelope.payload_model()
    await transactor.deliver(coupon_use.on_order_placed, order, envelope)
    await transactor.deliver(coupon_use.on_order_placed, order, envelope)  # redelivered
    [redeemed] = transactor.db.events(CouponRedeemed)
    assert (redeemed.code, redeemed.campaign_id, redeemed.discount) == (
        code,
        campaign_id,
        Decimal("2.38"),
    )
    [used] = [c for c in transactor.db.rows("coupon_pool_codes") if c.order_id]
    assert used.code == code
    profiles = envelope.model_copy(update={"id": uuid.uuid4()})  # another group's inbox
    await transactor.deliver(on_order_placed, order, profiles)  # profiles: attribution
    [conversion] = transactor.db.rows("conversions")
    assert (conversion.campaign_id, conversion.by) == (campaign_id, "coupon")
