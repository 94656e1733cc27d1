"""Bounces and complaints over real SMTP (issue 15, ADR 0055): marketing's mail leaves
with the VERP envelope sender; a relay's delivery status notification to that address,
handed to marketing's own SMTP receiver, suppresses the address; the next mail to it is
skipped; lifting the suppression lets mail go again. The receiver takes mail for the
bounce address only."""

from __future__ import annotations

from typing import Any

import aiosmtplib
import pytest
from kontor_marketing.context import MarketingContext
from kontor_servicekit.context import context_of
from kontor_servicekit.testing import bounce_report, eventually

pytestmark = pytest.mark.integration

BOUNCES = "bounces@shop.example"


async def test_a_hard_bounce_to_the_verp_address_suppresses_the_next_mail(
    start_service: Any, mail_sink: Any
) -> None:
    settings = {
        **mail_sink.smtp_settings(),
        "mail_sweep_interval_s": 0.1,
        "public_base_url": "https://shop.example",
        "bounce_address": BOUNCES,
    }
    async with start_service("marketing", **settings) as marketing:
        client, ctx = marketing.client, context_of(marketing.app, MarketingContext)
        receiver = marketing.app.state.smtp_receiver
        subscription = {"email": "anna@example.de", "topics": ["news"]}
        assert (
            await client.post("/newsletter/subscriptions", json=subscription)
        ).status_code == 202
        await mail_sink.arrived(1)
        [envelope] = mail_sink.messages
        [first] = await ctx.queries.mails_to("anna@example.de")
        assert envelope.mail_from == f"bounces+{first.id}@shop.example"

        report = bounce_report(to=envelope.mail_from, recipient="anna@example.de")
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=receiver.port) as smtp:
            with pytest.raises(aiosmtplib.SMTPRecipientsRefused):  # not a bounce address
                await smtp.sendmail("", ["anna@shop.example"], report)
            await smtp.sendmail("", [envelope.mail_from], report)

        listed = (await client.get("/suppressions?email=anna@example.de")).json()
        assert [(s["reason"], s["status"], s["mail_id"]) for s in listed["items"]] == [
            ("hard_bounce", "5.1.1", first.id)
        ]

        assert (
            await client.post("/newsletter/subscriptions", json=subscription)
        ).status_code == 202

        async def skipped() -> list[str | None]:
            mails = await ctx.queries.mails_to("anna@example.de")
            return [m.reason for m in mails if m.status == "skipped"]

        assert await eventually(skipped, timeout=10) == ["suppressed: hard_bounce"]
        assert len(mail_sink.messages) == 1

        lifted = await client.delete("/suppressions/Anna@example.de")
        assert lifted.status_code == 200 and lifted.json()["reason"] == "hard_bounce"
        assert (await client.get("/suppressions")).json()["items"] == []
        assert (await client.delete("/suppressions/anna@example.de")).status_code == 404
