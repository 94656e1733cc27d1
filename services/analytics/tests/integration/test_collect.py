"""POST /collect on the real database: a GA4 Measurement Protocol body as Google
documents it is accepted unchanged; refusals say why per field; bots are kept raw and
left out of sessions; addresses are truncated; sessions end after 30 quiet minutes."""

from __future__ import annotations

import time
from typing import Any

import pytest

pytestmark = pytest.mark.integration

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
URL = "/collect?measurement_id=G-KONTOR"

#: The purchase example of Google's Measurement Protocol reference (GA4), unchanged
#: but for the currency and the item ids.
GOOGLE_PURCHASE = {
    "client_id": "123456.7654321",
    "user_id": "user-42",
    "non_personalized_ads": False,
    "user_properties": {"customer_tier": {"value": "premium"}},
    "consent": {"ad_user_data": "GRANTED", "ad_personalization": "DENIED"},
    "events": [
        {
            "name": "purchase",
            "params": {
                "currency": "EUR",
                "transaction_id": "T_12345",
                "value": 72.05,
                "coupon": "SUMMER_FUN",
                "shipping": 3.33,
                "tax": 1.11,
                "session_id": "1733140000",
                "engagement_time_msec": 100,
                "items": [
                    {
                        "item_id": "SKU_12345",
                        "item_name": "Stan and Friends Tee",
                        "affiliation": "Google Merchandise Store",
                        "coupon": "SUMMER_FUN",
                        "discount": 2.22,
                        "index": 0,
                        "item_brand": "Google",
                        "item_category": "Apparel",
                        "item_category2": "Adult",
                        "item_variant": "green",
                        "price": 10.01,
                        "quantity": 3,
                    },
                    {
                        "item_id": "SKU_12346",
                        "item_name": "Google Grey Women's Tee",
                        "item_category": "Apparel",
                        "price": 21.01,
                        "quantity": 2,
                    },
                ],
            },
        }
    ],
}


def micros(seconds_ago: float) -> int:
    return int((time.time() - seconds_ago) * 1_000_000)


async def post(service: Any, body: Any, *, url: str = URL, ua: str = BROWSER) -> Any:
    return await service.client.post(url, json=body, headers={"user-agent": ua})


async def test_googles_purchase_body_is_accepted_unchanged_and_counted(
    start_service: Any,
) -> None:
    async with start_service("analytics", token=None) as analytics:
        answer = await post(analytics, GOOGLE_PURCHASE)
        assert answer.status_code == 204, answer.text
        assert answer.content == b""
        assert "set-cookie" not in answer.headers
        db = analytics.kit.store.db
        [raw] = await db["raw_events"].find().to_list(None)
        assert (raw["name"], raw["client_id"], raw["user_id"], raw["bot"]) == (
            "purchase",
            "123456.7654321",
            "user-42",
            False,
        )
        assert '"transaction_id":"T_12345"' in raw["params"]  # kept as sent
        [session] = await db["sessions"].find().to_list(None)
        assert session["_id"] == "123456.7654321:1733140000"
        assert session["steps"] == ["purchase"]
        assert session["purchased"] == ["SKU_12345", "SKU_12346"]
        assert str(session["purchase_value"]) == "72.05"
        assert session["categories_purchased"] == ["Apparel"]
        again = await post(analytics, GOOGLE_PURCHASE)  # the same purchase sent twice
        assert again.status_code == 204
        [session] = await db["sessions"].find().to_list(None)
        assert str(session["purchase_value"]) == "72.05"
        assert await db["raw_events"].count_documents({}) == 2


async def test_refused_requests_name_each_reason(start_service: Any) -> None:
    async with start_service(
        "analytics", token=None, collect_api_secret="s3cret", collect_consent_required=True
    ) as analytics:
        ok = {
            "client_id": "c.1",
            "consent": {"analytics_storage": "GRANTED"},
            "events": [{"name": "page_view", "params": {}}],
        }
        secret = f"{URL}&api_secret=s3cret"
        assert (await post(analytics, ok, url=secret)).status_code == 204
        wrong = await post(analytics, ok, url=f"{URL}&api_secret=nope")
        assert wrong.status_code == 403
        assert wrong.headers["content-type"] == "application/problem+json"

        async def refused(body: Any, url: str = secret) -> list[list[Any]]:
            answer = await post(analytics, body, url=url)
            assert answer.status_code == 422, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            return [e["loc"] for e in answer.json()["errors"]]

        too_many = {**ok, "events": [{"name": "page_view"}] * 26}
        assert ["body", "events"] in await refused(too_many)
        assert ["body", "client_id"] in await refused({"events": ok["events"]})
        assert ["query", "measurement_id"] in await refused(
            ok, url="/collect?measurement_id=G-OTHER&api_secret=s3cret"
        )
        no_consent = {**ok, "consent": {"analytics_storage": "DENIED"}}
        assert ["body", "consent", "analytics_storage"] in await refused(no_consent)
        bad = {
            **ok,
            "events": [
                {"name": "page_view"},
                {"name": "9lives"},
                {"name": "session_start"},
                {"name": "view_item", "params": {"bad-key": 1}},
                {"name": "view_item", "timestamp_micros": micros(73 * 3600)},
            ],
        }
        locs = await refused(bad)
        assert ["body", "events", 1, "name"] in locs
        assert ["body", "events", 2, "name"] in locs
        assert ["body", "events", 3, "params", "bad-key"] in locs
        assert ["body", "events", 4, "timestamp_micros"] in locs
        assert ["body", "events", 0, "name"] not in locs
        db = analytics.kit.store.db
        assert await db["raw_events"].count_documents({}) == 1  # only the accepted one


async def test_bots_are_kept_raw_but_not_counted_and_addresses_are_cut(
    start_service: Any,
) -> None:
    async with start_service("analytics", token=None, collect_max_events_per_minute=5) as analytics:
        body = {
            "client_id": "bot.1",
            "ip_override": "203.0.113.77",
            "events": [{"name": "page_view", "params": {}}],
        }
        googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        assert (await post(analytics, body, ua=googlebot)).status_code == 204
        person = {**body, "client_id": "person.1", "events": [{"name": "page_view"}] * 7}
        assert (await post(analytics, person)).status_code == 204
        db = analytics.kit.store.db
        raw = await db["raw_events"].find().to_list(None)
        assert {r["ip"] for r in raw} == {"203.0.113.0"}
        reasons = sorted((r["client_id"], r["bot_reason"] or "") for r in raw)
        assert (
            reasons
            == [("bot.1", "user_agent")] + [("person.1", "")] * 5 + [("person.1", "rate")] * 2
        )
        sessions = await db["sessions"].find().to_list(None)
        assert [(s["client_id"], s["events"]) for s in sessions] == [("person.1", 5)]


async def test_sessions_end_after_30_quiet_minutes_and_keep_their_source(
    start_service: Any,
) -> None:
    async with start_service("analytics", token=None) as analytics:
        landing = (
            "https://shop.example/p/tee?utm_source=Newsletter&utm_medium=email&utm_campaign=xmas"
        )
        hits = [
            ("page_view", {"page_location": landing}, 3600),
            ("view_item", {"items": [{"item_id": "TEE", "item_category": "Shirts"}]}, 3000),
            ("page_view", {"page_referrer": "https://www.google.com/"}, 600),
            ("add_to_cart", {"value": 19.99, "items": [{"item_id": "TEE"}]}, 500),
        ]
        for name, params, ago in hits:
            body = {
                "client_id": "c.7",
                "events": [{"name": name, "params": params, "timestamp_micros": micros(ago)}],
            }
            assert (await post(analytics, body)).status_code == 204
        db = analytics.kit.store.db
        sessions = await db["sessions"].find().sort("started_at", 1).to_list(None)
        assert [(s["source"], s["medium"], s["campaign"]) for s in sessions] == [
            ("newsletter", "email", "xmas"),
            ("www.google.com", "referral", None),
        ]
        assert [s["steps"] for s in sessions] == [
            ["page_view", "view_item"],
            ["add_to_cart", "page_view"],
        ]
        assert sessions[0]["categories_viewed"] == ["Shirts"]
        assert str(sessions[1]["cart_value"]) == "19.99"


async def test_the_snippet_is_served_and_sets_no_cookie(start_service: Any) -> None:
    async with start_service("analytics", token=None) as analytics:
        answer = await analytics.client.get("/collect/snippet.js")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/javascript")
        assert "measurement_id" in answer.text
        assert "document.cookie" not in answer.text


SHOP = "https://shop.example"
PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "content-type",
}


async def test_collect_answers_cors_for_the_shops_origin_only(start_service: Any) -> None:
    async with start_service("analytics", token=None, collect_allowed_origins=[SHOP]) as analytics:
        client = analytics.client
        asked = await client.options(URL, headers={"origin": SHOP, **PREFLIGHT})
        assert asked.status_code == 200
        assert asked.headers["access-control-allow-origin"] == SHOP
        assert "POST" in asked.headers["access-control-allow-methods"]
        assert "content-type" in asked.headers["access-control-allow-headers"].lower()
        assert int(asked.headers["access-control-max-age"]) > 0
        assert "access-control-allow-credentials" not in asked.headers
        body = {"client_id": "c.cors", "events": [{"name": "page_view"}]}
        sent = await client.post(URL, json=body, headers={"origin": SHOP, "user-agent": BROWSER})
        assert (sent.status_code, sent.headers["access-control-allow-origin"]) == (204, SHOP)
        bad = await client.post(
            URL, json={"client_id": "c.cors", "events": []}, headers={"origin": SHOP}
        )
        assert (bad.status_code, bad.headers["access-control-allow-origin"]) == (422, SHOP)
        other = await client.options(URL, headers={"origin": "https://evil.example", **PREFLIGHT})
        assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
        elsewhere = await client.options("/kpis/sales", headers={"origin": SHOP, **PREFLIGHT})
        assert "access-control-allow-origin" not in elsewhere.headers
    async with start_service("analytics", token=None) as plain:  # no origin configured
        asked = await plain.client.options(URL, headers={"origin": SHOP, **PREFLIGHT})
        assert "access-control-allow-origin" not in asked.headers


async def test_sessions_and_idle_clients_expire_by_their_ttl_settings(start_service: Any) -> None:
    def ttl(indexes: dict[str, Any], name: str) -> int:
        return int(indexes[name]["expireAfterSeconds"])

    async with start_service("analytics", sessions_keep_days=30, session_timeout_min=20) as one:
        db = one.kit.store.db
        assert ttl(await db["sessions"].index_information(), "last_at_ttl") == 30 * 86_400
        # a client's current session is kept past GA4's 72 hours of late hits
        idle = await db["session_clients"].index_information()
        assert ttl(idle, "idle_ttl") == 72 * 3600 + 20 * 60
    async with start_service("analytics", sessions_keep_days=90, raw_events_ttl_days=7) as two:
        db = two.kit.store.db  # a changed setting changes the index in place at start
        assert ttl(await db["sessions"].index_information(), "last_at_ttl") == 90 * 86_400
        assert ttl(await db["raw_events"].index_information(), "received_at_ttl") == 7 * 86_400
