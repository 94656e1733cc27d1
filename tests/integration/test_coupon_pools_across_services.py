"""Unique coupon codes per campaign recipient (issue 15, ADR 0118), over the real broker:
a pool created in marketing reaches orders as CouponCodesIssued; a campaign with
``{{coupon_code:<pool id>}}`` to three consenting customers mails two of them a
different code each and skips the third (the pool has two);
orders accepts one code once, also when several orders with it arrive at once, and
refuses it again at ``coupon_codes[0]``; the redemption shows on the pool and on the
campaign's results."""

from __future__ import annotations

import asyncio
import copy
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
from kontor_contracts.samples import ORDER
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.testing import eventually

pytestmark = pytest.mark.integration

CODE = re.compile(r"Ihr Code: (WELCOME-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4})\b")


def quiet_hours_not_now() -> str:
    """A one-hour quiet time three hours from now: campaign mails leave at once."""
    start = datetime.now(UTC).astimezone(BERLIN) + timedelta(hours=3)
    return f"{start:%H:%M}-{start + timedelta(hours=1):%H:%M}"


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def order(email: str, *codes: str) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(ORDER)
    body["customer"] = {"email": email, "name": email.split("@")[0].title()}
    body["coupon_codes"] = list(codes)
    return body


async def test_a_campaign_hands_each_recipient_a_code_of_the_pool_used_once(
    start_service: Any, mail_sink: Any
) -> None:
    settings = {
        **mail_sink.smtp_settings(),
        "mail_sweep_interval_s": 0.1,
        "campaign_sweep_interval_s": 0.1,
        "public_base_url": "https://shop.example",
        "quiet_hours": quiet_hours_not_now(),
    }
    people = ["anna@example.de", "bert@example.de", "carla@example.de"]
    async with (
        start_service("orders") as orders,
        start_service("marketing", **settings) as marketing,
    ):
        await orders.kit.store.db["catalog_products"].insert_one(
            {
                "_id": "TEE-RED-M",
                "name": "T-Shirt rot, M",
                "price_net": Decimal("19.99"),
                "vat_rate": Decimal("0.19"),
                "vat_class": "standard",
                "currency": "EUR",
                "discontinued": False,
            }
        )
        made = await marketing.client.post(
            "/coupon-pools",
            json={
                "prefix": "welcome",
                "count": 2,
                "amount_off": {"gross": "5.00", "currency": "EUR"},
                "minimum_order_value": {"gross": "20.00", "currency": "EUR"},
            },
        )
        assert made.status_code == 201, made.text
        pool = made.json()
        assert (pool["prefix"], pool["generated"], pool["assigned"]) == ("WELCOME", 2, 0)
        assert made.headers["location"] == f"/coupon-pools/{pool['id']}"
        bad = await marketing.client.post("/coupon-pools", json={"prefix": "W", "count": 0})
        assert bad.status_code == 422
        assert {tuple(e["loc"]) for e in bad.json()["errors"]} >= {
            ("body", "prefix"),
            ("body", "count"),
        }

        async def known_to_orders() -> bool:
            found = orders.kit.store.db["coupons"].count_documents({"pool_id": pool["id"]})
            return await found == 2

        await eventually(known_to_orders, timeout=30)

        for email in people:  # customers (marketing's profiles) who asked for offers
            placed = await orders.client.post("/orders", json=order(email))
            assert placed.status_code == 201, placed.text
            asked = await marketing.client.post(
                "/newsletter/subscriptions", json={"email": email, "topics": ["offers"]}
            )
            assert asked.status_code == 202
            [mail] = await mail_sink.arrived(1, where=lambda m, e=email: m["To"] == e)
            link = re.search(r"https://shop.example(/newsletter/confirmations/\S+)", text_of(mail))
            assert link, text_of(mail)
            confirmed = await marketing.client.get(urlsplit(link.group(0)).path)
            assert confirmed.status_code == 200

        rule = {"field": "orders", "op": "gte", "value": 1}

        async def everyone() -> bool:
            preview = await marketing.client.post("/segments/preview", json={"rule": rule})
            return bool(preview.json()["size"] == 3)

        await eventually(everyone, timeout=30)
        segment = (
            await marketing.client.post("/segments", json={"name": "Käufer", "rule": rule})
        ).json()
        unknown_pool = await marketing.client.post(
            "/campaigns",
            json={
                "name": "Falsch",
                "subject": "Code",
                "text": "Ihr Code: {{coupon_code:no-such-pool}}",
                "topic": "offers",
                "segment_id": segment["id"],
            },
        )
        assert unknown_pool.status_code == 422
        assert [e["loc"] for e in unknown_pool.json()["errors"]] == [["body", "text"]]
        campaign = await marketing.client.post(
            "/campaigns",
            json={
                "name": "Willkommen",
                "subject": "{{name}}, Ihr persönlicher Gutschein",
                "text": f"Hallo {{{{name}}}}, Ihr Code: {pool['placeholder']}",
                "topic": "offers",
                "segment_id": segment["id"],
            },
        )
        assert campaign.status_code == 201, campaign.text
        campaign_id = campaign.json()["id"]
        scheduled = await marketing.client.post(f"/campaigns/{campaign_id}/schedule", json={})
        assert scheduled.status_code == 200, scheduled.text

        mails = await mail_sink.arrived(
            2, where=lambda m: "Gutschein" in str(m["Subject"]), timeout=30
        )
        codes: dict[str, str] = {}
        for mail in mails:
            found = CODE.search(text_of(mail))
            assert found, text_of(mail)
            codes[str(mail["To"])] = found.group(1)
        assert len(codes) == 2 and len(set(codes.values())) == 2  # two codes for three people
        shown = (await marketing.client.get(f"/coupon-pools/{pool['id']}")).json()
        assert (shown["generated"], shown["assigned"], shown["redeemed"]) == (2, 2, 0)
        [left_out] = set(people) - set(codes)  # the pool ran out: skipped, no mail without code

        async def dispatched() -> dict[str, Any] | None:
            shown = (await marketing.client.get(f"/campaigns/{campaign_id}")).json()
            return shown if shown["status"] == "sent" else None

        report = await eventually(dispatched, timeout=10)
        assert (report["recipients"], report["skipped_no_code"]) == (2, 1)
        await asyncio.sleep(0.5)  # the sweeper had its rounds: still no mail to left_out
        mailed = [m["To"] for m in mail_sink.parsed() if "Gutschein" in str(m["Subject"])]
        assert sorted(mailed) == sorted(codes) and left_out not in mailed

        # one code in four orders at once: one is accepted, the others refused at its place
        first, second = sorted(codes)
        anna = codes[first]
        answers = await asyncio.gather(
            *(orders.client.post("/orders", json=order(f"k{n}@example.de", anna)) for n in range(4))
        )
        assert sorted(a.status_code for a in answers) == [201, 422, 422, 422], [
            a.text for a in answers
        ]
        for refused in (a for a in answers if a.status_code == 422):
            assert [e["loc"] for e in refused.json()["errors"]] == [["body", "coupon_codes", 0]]
        [winner] = [a.json() for a in answers if a.status_code == 201]
        assert winner["coupon_discounts"] == {anna: "5.00"}
        again = await orders.client.post("/orders", json=order(first, anna))
        assert again.status_code == 422 and "used already" in again.text
        assert [e["loc"] for e in again.json()["errors"]] == [["body", "coupon_codes", 0]]
        bert = await orders.client.post("/orders", json=order(second, codes[second]))
        assert bert.status_code == 201, bert.text  # the other code still works

        async def redeemed() -> dict[str, Any] | None:
            shown = (await marketing.client.get(f"/coupon-pools/{pool['id']}")).json()
            return shown if shown["redeemed"] == 2 else None

        await eventually(redeemed, timeout=30)

        async def converted() -> dict[str, Any] | None:
            shown = (await marketing.client.get(f"/campaigns/{campaign_id}")).json()
            return shown if shown["results"]["conversions"] == 2 else None

        report = await eventually(converted, timeout=30)
        assert report["results"]["skipped_at_send"] == 0  # the left-out one is not counted there
        assert Decimal(report["results"]["revenue_net"]) == Decimal(winner["gross_total"]) + (
            Decimal(bert.json()["gross_total"])
        )
