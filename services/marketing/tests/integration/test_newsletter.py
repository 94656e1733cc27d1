"""The newsletter on the real broker and database (issue 15): a subscription answers 202
and queues the confirmation mail; its link confirms with a plain GET (ConsentChanged
granted on marketing.consent.v1); GET /consents shows status, topics and evidence; the
List-Unsubscribe URL takes the RFC 8058 one-click POST at once; the public routes need
no token and are rate-limited."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.orders import DataExportRequested, ErasureRequested
from kontor_marketing.context import MarketingContext
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import as_message, consume_all, produce, topic_of

from .awake import quiet_hours_not_now

pytestmark = pytest.mark.integration


FAST_MAIL = {
    "mail_sweep_interval_s": 0.1,
    "public_base_url": "https://shop.example",
    "quiet_hours": quiet_hours_not_now(),  # the welcome mail is advertising (ADR 0119)
}


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def path_of(text: str, kind: str) -> str:
    match = re.search(rf"https://shop.example/newsletter/{kind}/\S+", text)
    assert match, text
    return urlsplit(match.group(0)).path


async def test_double_opt_in_over_smtp_then_one_click_unsubscribe(
    start_service: Any, infra: Any, namespace: str, auth_keys: Any, mail_sink: Any
) -> None:
    settings = {**FAST_MAIL, **mail_sink.smtp_settings()}
    async with start_service("marketing", token=None, **settings) as marketing:
        public = marketing.client
        ctx = context_of(marketing.app, MarketingContext)
        asked = await public.post(
            "/newsletter/subscriptions",
            json={"email": "Anna@Example.de", "topics": ["news", "offers"], "locale": "de"},
        )
        assert asked.status_code == 202, asked.text
        [mail] = await mail_sink.arrived(1)
        assert mail["To"] == "anna@example.de"
        assert "bestätigen" in mail["Subject"]
        assert mail["List-Unsubscribe"] is None  # the confirmation is no advertising
        link = path_of(text_of(mail), "confirmations")

        confirmed = await public.get(link)
        assert confirmed.status_code == 200, confirmed.text
        assert "bestätigt" in confirmed.text
        again = await public.get(link)
        assert again.status_code == 200  # a second click (or a link scanner) changes nothing
        # the welcome flow: one mail after the first opt-in, advertising with its one-click
        [welcome] = await mail_sink.arrived(1, where=lambda m: "Willkommen" in str(m["Subject"]))
        assert welcome["To"] == "anna@example.de"
        assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        staff = {"Authorization": f"Bearer {auth_keys.token('marketing:read')}"}
        assert (await public.get("/consents?email=anna@example.de")).status_code == 401
        shown = (await public.get("/consents?email=ANNA@example.de", headers=staff)).json()
        assert shown["status"] == "confirmed"
        assert [(t["topic"], t["status"]) for t in shown["topics"]] == [
            ("news", "confirmed"),
            ("offers", "confirmed"),
        ]
        assert [e["kind"] for e in shown["evidence"]] == ["requested", "confirmed"]
        assert shown["evidence"][0]["text"].startswith("Ja, ich möchte")
        assert shown["evidence"][0]["ip"] in {"127.0.0.0", None}

        unsubscribe = urlsplit(ctx.consent_links().unsubscribe_url("anna@example.de")).path
        page = await public.get(unsubscribe)
        assert page.status_code == 200 and "offers" in page.text
        one_click = await public.post(
            unsubscribe,
            content="List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert one_click.status_code == 200, one_click.text
        assert one_click.json() == {"unsubscribed": ["news", "offers"]}
        after = (await public.get("/consents?email=anna@example.de", headers=staff)).json()
        assert after["status"] == "unsubscribed"

        # marketing.consent.v2 (ADR 0056): keyed by the subject id; the e-mail is nowhere
        # in clear, not in the key, the envelope or the headers, only sealed in the payload
        topic = topic_of(namespace, "ConsentChanged")
        assert topic.endswith("marketing.consent.v2")
        records = await consume_all(infra.kafka_bootstrap, topic, expected=2)
        privacy = marketing.kit.privacy
        subject = privacy.pseudonyms.subject_id("anna@example.de")
        assert {r.key for r in records} == {subject.encode()}
        for record in records:
            wire = record.value + b"".join(v for _, v in record.headers)
            assert b"anna@example.de" not in wire
            assert json.loads(record.value)["aggregate_id"] == subject
        opened = [(await privacy.sealer.unseal(Envelope.from_bytes(r.value))) for r in records]
        assert [(e.payload["email"], e.payload["subject_id"]) for e in opened] == [
            ("anna@example.de", subject)
        ] * 2
        assert [
            (e.payload["granted"], e.payload["topics"], e.payload["source"]) for e in opened
        ] == [
            (True, ["news", "offers"], "newsletter_double_opt_in"),
            (False, [], "list_unsubscribe_one_click"),
        ]
        # erased (the coordinator destroys the person's key): a replay shows placeholders
        assert await privacy.store.destroy(subject)
        replayed = await consume_all(infra.kafka_bootstrap, topic, expected=2)
        for record in replayed:
            shown = await privacy.sealer.unseal(Envelope.from_bytes(record.value))
            assert shown.payload["email"].endswith("@pseudonym.invalid")


async def test_public_routes_are_rate_limited_and_refuse_forged_links(
    start_service: Any,
) -> None:
    async with start_service("marketing", token=None, subscribe_rate_limit=3) as marketing:
        public = marketing.client
        forged = await public.get("/newsletter/confirmations/eyJlIjoiYUBiLmRlIn0.forged")
        assert forged.status_code == 400 and "signed" in forged.text
        for n in range(2):
            ok = await public.post(
                "/newsletter/subscriptions",
                json={"email": f"p{n}@example.de", "topics": ["news"]},
            )
            assert ok.status_code == 202
        limited = await public.post(
            "/newsletter/subscriptions", json={"email": "p9@example.de", "topics": ["news"]}
        )
        assert limited.status_code == 429 and "retry-after" in limited.headers


async def test_marketing_answers_export_and_erasure_requests(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("marketing") as marketing:
        client = marketing.client
        asked = await client.post(
            "/newsletter/subscriptions", json={"email": "erika@example.de", "topics": ["news"]}
        )
        assert asked.status_code == 202
        now = datetime.now(UTC)
        requests = [
            kind(
                request_id=f"pr-{n}",
                subject_id="subj-1",
                email="erika@example.de",
                requested_at=now,
            )
            for n, kind in enumerate((DataExportRequested, ErasureRequested))
        ]
        for request in requests:
            envelope = Envelope.wrap(request, producer="orders", aggregate_id=request.request_id)
            await produce(
                infra.kafka_bootstrap, topic_of(namespace, envelope.type), [as_message(envelope)]
            )
        records = await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "CustomerDataErased"), expected=4
        )
        sealer = marketing.kit.privacy.sealer  # the answers travel sealed (ADR 0036)
        answers = {}
        for record in records:
            envelope = await sealer.unseal(Envelope.from_bytes(record.value))
            if envelope.producer == "marketing":
                answers[envelope.type] = envelope.payload
        exported = answers["CustomerDataExported"]["part"]["consent"]
        assert exported["topics"]["news"]["status"] == "pending"
        assert exported["evidence"][0]["text"].startswith("Ja, ich möchte")
        erased = answers["CustomerDataErased"]
        assert {i["what"]: i["count"] for i in erased["deleted"]}["consents"] == 1
        assert (await client.get("/consents?email=erika@example.de")).status_code == 404
