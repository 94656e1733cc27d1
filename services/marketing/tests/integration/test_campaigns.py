"""A campaign to a segment over real SMTP (issue 15): only the member with confirmed
consent gets it (the unconsented and the unsubscribed are skipped), with List-Unsubscribe
and List-Unsubscribe-Post; its one-click POST unsubscribes at once; tracked clicks
redirect only to the signed target, tagged with the campaign's UTM parameters; the
results count delivered, opens, clicks and the unsubscribe the campaign caused."""

from __future__ import annotations

import re
from decimal import Decimal
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.common import Customer
from kontor_contracts.events.orders import ReturnCompleted
from kontor_contracts.samples import order_placed_envelope
from kontor_marketing.context import MarketingContext
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import as_message, consume_all, eventually, produce, topic_of

from .awake import quiet_hours_not_now

pytestmark = pytest.mark.integration


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def path_in(text: str, kind: str) -> str:
    match = re.search(rf"https://shop.example(/{kind}/\S+)", text)
    assert match, text
    return urlsplit(match.group(0)).path


async def test_a_campaign_reaches_only_the_consented_and_tracks_what_came_back(
    start_service: Any, infra: Any, namespace: str, mail_sink: Any
) -> None:
    settings = {
        **mail_sink.smtp_settings(),
        "mail_sweep_interval_s": 0.1,
        "campaign_sweep_interval_s": 0.1,
        "public_base_url": "https://shop.example",
        "quiet_hours": quiet_hours_not_now(),
        "utm_source": "beispielshop",
    }
    people = ["anna@example.de", "bert@example.de", "carla@example.de"]
    async with start_service("marketing", **settings) as marketing:
        client = marketing.client
        for n, email in enumerate(people, start=1):
            env = order_placed_envelope(number=n)
            event = env.payload_model().model_copy(  # type: ignore[attr-defined]
                update={"customer": Customer(email=email, name=email.split("@")[0].title())}
            )
            placed = env.model_copy(update={"payload": event.model_dump(mode="json")})
            await produce(
                infra.kafka_bootstrap, topic_of(namespace, "OrderPlaced"), [as_message(placed)]
            )
        for email in ("anna@example.de", "carla@example.de"):
            asked = await client.post(
                "/newsletter/subscriptions", json={"email": email, "topics": ["offers"]}
            )
            assert asked.status_code == 202
            [mail] = await mail_sink.arrived(1, where=lambda m, e=email: m["To"] == e)
            assert (
                await client.get(path_in(text_of(mail), "newsletter/confirmations"))
            ).status_code == 200
        links = context_of(marketing.app, MarketingContext).consent_links()
        carla_out = await client.get(urlsplit(links.unsubscribe_url("carla@example.de")).path)
        assert carla_out.status_code == 200
        gone = await client.post(urlsplit(links.unsubscribe_url("carla@example.de")).path)
        assert gone.json() == {"unsubscribed": ["offers"]}

        rule = {"field": "orders", "op": "gte", "value": 1}

        async def everyone() -> bool:
            preview = await client.post("/segments/preview", json={"rule": rule})
            return bool(preview.json()["size"] == 3)

        await eventually(everyone, timeout=30)
        segment = (await client.post("/segments", json={"name": "Käufer", "rule": rule})).json()
        assert segment["size"] == 3
        made = await client.post(
            "/campaigns",
            json={
                "name": "Winter",
                "subject": "{{name}}, 10 % mit {{coupon_code}}",
                "text": "Hallo {{name}}, hier entlang: https://www.example.org/winter?farbe=rot",
                "html": '<p>Hallo {{name}}</p><a href="https://www.example.org/winter">Winter</a>',
                "topic": "offers",
                "segment_id": segment["id"],
                "coupon_code": "WINTER10",
                "cost": "120.00",
            },
        )
        assert made.status_code == 201, made.text
        campaign_id = made.json()["id"]
        scheduled = await client.post(f"/campaigns/{campaign_id}/schedule", json={})
        assert scheduled.status_code == 200, scheduled.text
        on_topic = await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "CampaignScheduled"), 1
        )  # CampaignSent shares the topic
        [payload] = [
            e.payload
            for e in (Envelope.from_bytes(r.value) for r in on_topic)
            if e.type == "CampaignScheduled"
        ]  # analytics's ROI needs the cost
        assert (payload["coupon_code"], payload["cost"]) == ("WINTER10", "120.00")

        [sent] = await mail_sink.arrived(1, where=lambda m: "WINTER10" in str(m["Subject"]))
        assert sent["To"] == "anna@example.de" and sent["Subject"] == "Anna, 10 % mit WINTER10"
        assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = urlsplit(re.findall(r"<(https://[^>]+)>", sent["List-Unsubscribe"])[0]).path
        text = text_of(sent)
        assert "https://www.example.org/winter" not in text  # tracked
        click = path_in(text, "t/c")
        followed = await client.get(click, follow_redirects=False)
        assert followed.status_code == 302
        # the target with its own query and the UTM tags analytics attributes by (ADR 0121)
        assert followed.headers["location"] == (
            "https://www.example.org/winter?farbe=rot&utm_source=beispielshop"
            f"&utm_medium=email&utm_campaign={campaign_id}"
        )
        assert (await client.get(click[:-3] + "abc", follow_redirects=False)).status_code == 404
        html = sent.get_body(("html",))
        assert html is not None
        pixel = urlsplit(re.findall(r'<img src="([^"]+)"', str(html.get_content()))[0]).path
        opened = await client.get(pixel)
        assert opened.headers["content-type"] == "image/gif"

        one_click = await client.post(
            unsubscribe,
            content="List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert one_click.json() == {"unsubscribed": ["offers"]}

        report = (await client.get(f"/campaigns/{campaign_id}")).json()
        assert (report["status"], report["recipients"], report["skipped_no_consent"]) == (
            "sent",
            1,
            2,
        )

        async def delivered() -> dict[str, Any] | None:
            shown = (await client.get(f"/campaigns/{campaign_id}")).json()["results"]
            return shown if shown["delivered"] == 1 else None

        results = await eventually(delivered, timeout=10)
        assert (results["opened"], results["clicked"], results["unsubscribed"]) == (1, 1, 1)
        assert "unreliable" in results["opens_note"]
        campaign_mails = [m["To"] for m in mail_sink.parsed() if "WINTER10" in str(m["Subject"])]
        assert campaign_mails == ["anna@example.de"]  # the unconsented got none

        # anna orders after her click (attributed), then returns part of it
        bought = order_placed_envelope(number=9)
        order_id = bought.aggregate_id
        refund = ReturnCompleted(
            return_id="r-9",
            order_id=order_id,
            refund_amount=Decimal("20.00"),
            currency="EUR",
            includes_shipping=False,
        )
        await produce(
            infra.kafka_bootstrap, topic_of(namespace, "OrderPlaced"), [as_message(bought)]
        )

        async def converted() -> dict[str, Any] | None:
            shown = (await client.get(f"/campaigns/{campaign_id}")).json()["results"]
            return shown if shown["conversions"] == 1 else None

        gross = Decimal((await eventually(converted, timeout=30))["revenue_net"])
        returned = Envelope.wrap(refund, producer="orders", aggregate_id=refund.return_id)
        await produce(
            infra.kafka_bootstrap, topic_of(namespace, "ReturnCompleted"), [as_message(returned)]
        )

        async def net_of_return() -> dict[str, Any] | None:
            shown = (await client.get(f"/campaigns/{campaign_id}")).json()["results"]
            return shown if shown["returns"] == 1 else None

        after = await eventually(net_of_return, timeout=30)
        assert Decimal(after["revenue_net"]) == gross - Decimal("20.00")

        planning = (await client.get("/planning")).json()
        [past] = planning["campaigns"]
        assert (past["name"], past["segment"], past["results"]["clicked"]) == (
            "Winter",
            "Käufer",
            1,
        )
        assert sum(h["engagements"] for h in planning["best_hours"]) == 2  # the open and the click
        assert [s["segment"] for s in planning["best_segments"]] == ["Käufer"]
        assert "unreliable" in planning["opens_note"]
