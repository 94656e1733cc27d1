"""An A/B test over real SMTP (issue 15): a sample gets A, as many get B; the variant
with more clicks after the wait goes to the rest, which get its subject."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from kontor_contracts.events.common import Customer
from kontor_contracts.samples import order_placed_envelope
from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.context import MarketingContext
from kontor_marketing.domain.consent import Consent
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import as_message, eventually, produce, topic_of

pytestmark = pytest.mark.integration

PEOPLE = [f"p{n}@example.de" for n in range(4)]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def test_the_variant_with_more_clicks_goes_to_the_rest(
    start_service: Any, infra: Any, namespace: str, mail_sink: Any
) -> None:
    quiet = datetime.now(UTC).astimezone(BERLIN) + timedelta(hours=5)
    settings = {
        **mail_sink.smtp_settings(),
        "mail_sweep_interval_s": 0.1,
        "campaign_sweep_interval_s": 0.1,
        "public_base_url": "https://shop.example",
        "quiet_hours": f"{quiet:%H:%M}-{quiet + timedelta(hours=1):%H:%M}",
    }
    async with start_service("marketing", **settings) as marketing:
        client = marketing.client
        ctx = context_of(marketing.app, MarketingContext)
        now = ctx.clock()

        async def consented(uow: MarketingUnitOfWork) -> None:
            for email in PEOPLE:
                person = Consent(email=email, locale="de")
                person.request(("news",), request_id="r", at=now, source="t", ip=None, locale="de")
                person.confirm("r", at=now, ip=None)
                person.pull_events()
                await uow.consents.save(person)

        await ctx.transactor.run(consented)
        for n, email in enumerate(PEOPLE, start=1):
            env = order_placed_envelope(number=n)
            event = env.payload_model().model_copy(  # type: ignore[attr-defined]
                update={"customer": Customer(email=email, name=f"P{n}")}
            )
            placed = env.model_copy(update={"payload": event.model_dump(mode="json")})
            await produce(
                infra.kafka_bootstrap, topic_of(namespace, "OrderPlaced"), [as_message(placed)]
            )
        rule = {"field": "orders", "op": "gte", "value": 1}

        async def everyone() -> bool:
            return bool(
                (await client.post("/segments/preview", json={"rule": rule})).json()["size"] == 4
            )

        await eventually(everyone, timeout=30)
        segment = (await client.post("/segments", json={"name": "Alle", "rule": rule})).json()
        made = await client.post(
            "/campaigns",
            json={
                "name": "Betreff-Test",
                "subject": "Neu im Shop",
                "text": "Hallo {{name}}: https://www.example.org/neu",
                "topic": "news",
                "segment_id": segment["id"],
                "variant_b": {"subject": "{{name}}, das ist neu"},
                "ab_test": {"sample": "0.25", "metric": "clicks", "wait_minutes": 60},
            },
        )
        assert made.status_code == 201, made.text
        campaign_id = made.json()["id"]
        await client.post(f"/campaigns/{campaign_id}/schedule", json={})

        sample = await mail_sink.arrived(2)
        subjects = sorted(str(m["Subject"]) for m in sample)
        assert subjects[0] == "Neu im Shop" and subjects[1].endswith(", das ist neu")
        testing = (await client.get(f"/campaigns/{campaign_id}")).json()
        assert (testing["status"], testing["sent_a"], testing["sent_b"]) == ("testing", 1, 1)
        [b_mail] = [m for m in sample if "das ist neu" in str(m["Subject"])]
        click = re.findall(r"https://shop.example(/t/c/\S+)", text_of(b_mail))[0]
        followed = await client.get(urlsplit(click).path, follow_redirects=False)
        assert followed.status_code == 302
        tags = parse_qs(urlsplit(followed.headers["location"]).query)
        assert (tags["utm_campaign"], tags["utm_content"]) == ([campaign_id], ["B"])

        real = ctx.clock
        ctx.clock = lambda: real() + timedelta(minutes=61)  # the wait is over
        rest = await mail_sink.arrived(4)
        first = {m["Message-ID"] for m in sample}
        later = [str(m["Subject"]) for m in rest if m["Message-ID"] not in first]
        assert len(later) == 2 and all(s.endswith(", das ist neu") for s in later)

        async def decided() -> dict[str, Any] | None:
            shown = (await client.get(f"/campaigns/{campaign_id}")).json()
            return shown if shown["status"] == "sent" else None

        shown = await eventually(decided, timeout=10)
        assert (shown["winner"], shown["recipients"]) == ("B", 4)
        assert len({str(m["To"]) for m in rest}) == 4  # nobody got it twice
