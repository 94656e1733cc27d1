"""Consent per topic: pending until the double opt-in link, evidence of every step with
the IP truncated and the text agreed to, an old link cannot revive an unsubscribed topic,
and a forged, altered, misused or expired link admits nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from kontor_marketing.domain.consent import (
    CONSENT_TEXTS,
    Consent,
    normalise_email,
    truncate_ip,
)
from kontor_marketing.domain.events import ConsentConfirmed, ConsentWithdrawn
from kontor_marketing.domain.links import BadLink, LinkSigner
from kontor_servicekit.domain_errors import Conflict, Invalid

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 2, 9, tzinfo=UTC)


def asked(*topics: str) -> Consent:
    consent = Consent(email="anna@example.de", locale="de")
    consent.request(
        topics, request_id="r-1", at=AT, source="newsletter_form", ip="203.0.113.77", locale="de"
    )
    consent.pull_events()
    return consent


def test_a_request_waits_for_confirmation_and_keeps_the_text_agreed_to() -> None:
    consent = asked("news", "offers")
    assert consent.status == "pending"
    assert not consent.may_receive("news")
    [evidence] = consent.evidence
    assert (evidence.kind, evidence.ip, evidence.topics) == (
        "requested",
        "203.0.113.0",
        ("news", "offers"),
    )
    assert evidence.text == CONSENT_TEXTS["de"]


def test_the_link_confirms_once_and_an_unsubscribe_stops_at_once() -> None:
    consent = asked("news", "offers")
    assert consent.confirm("r-1", at=AT + timedelta(minutes=5), ip="2001:db8:1:2::9") == (
        "news",
        "offers",
    )
    [event] = consent.pull_events()
    assert isinstance(event, ConsentConfirmed) and event.confirmed_topics == ("news", "offers")
    assert consent.evidence[-1].ip == "2001:db8:1::"
    assert consent.confirm("r-1", at=AT + timedelta(minutes=6), ip=None) == ()
    assert consent.pull_events() == []  # the same link twice announces once

    assert consent.unsubscribe(("offers",), at=AT, source="list_unsubscribe", ip=None) == (
        "offers",
    )
    [withdrawn] = consent.pull_events()
    assert isinstance(withdrawn, ConsentWithdrawn) and withdrawn.confirmed_topics == ("news",)
    assert consent.may_receive("news") and not consent.may_receive("offers")
    consent.unsubscribe(None, at=AT, source="list_unsubscribe", ip=None)
    assert consent.status == "unsubscribed" and not consent.may_receive("news")


def test_an_old_link_does_not_revive_a_topic_unsubscribed_since() -> None:
    consent = asked("news")
    consent.unsubscribe(None, at=AT, source="unsubscribe_page", ip=None)
    with pytest.raises(Conflict):
        consent.confirm("r-1", at=AT, ip=None)
    assert consent.request(
        ("news",), request_id="r-2", at=AT, source="newsletter_form", ip=None, locale="en"
    ) == ("news",)
    with pytest.raises(Conflict):
        consent.confirm("r-1", at=AT, ip=None)  # replaced by the new request
    assert consent.confirm("r-2", at=AT, ip=None) == ("news",)


def test_asking_again_for_a_confirmed_topic_needs_no_mail() -> None:
    consent = asked("news")
    consent.confirm("r-1", at=AT, ip=None)
    assert (
        consent.request(
            ("news",), request_id="r-2", at=AT, source="newsletter_form", ip=None, locale="de"
        )
        == ()
    )
    assert consent.may_receive("news")


@pytest.mark.parametrize(
    ("topics", "locale", "field"),
    [(("sports",), "de", "topics"), ((), "de", "topics"), (("news",), "fr", "locale")],
)
def test_unknown_topics_and_locales_are_refused_at_their_field(
    topics: tuple[str, ...], locale: str, field: str
) -> None:
    with pytest.raises(Invalid) as refused:
        Consent(email="a@b.de", locale="de").request(
            topics, request_id="r", at=AT, source="x", ip=None, locale=locale
        )
    assert refused.value.problems[0].loc[-1] == field


def test_addresses_are_keyed_in_one_form_and_ips_are_truncated() -> None:
    assert normalise_email("  Anna@Example.DE ") == "anna@example.de"
    with pytest.raises(Invalid):
        normalise_email("not-an-address")
    assert truncate_ip("198.51.100.255") == "198.51.100.0"
    assert truncate_ip("garbage") is None and truncate_ip(None) is None


def test_links_admit_only_what_was_signed_for_its_purpose_and_time() -> None:
    signer = LinkSigner(b"s" * 32)
    token = signer.sign("confirm", {"e": "a@b.de"}, expires_at=AT + timedelta(hours=1))
    assert signer.verify("confirm", token, now=AT) == {"e": "a@b.de"}
    with pytest.raises(BadLink):
        signer.verify("unsubscribe", token, now=AT)  # another purpose
    with pytest.raises(BadLink):
        LinkSigner(b"t" * 32).verify("confirm", token, now=AT)  # another secret
    _, _, signature = token.partition(".")
    forged = LinkSigner(b"x" * 32).sign("confirm", {"e": "b@b.de"}, expires_at=None)
    with pytest.raises(BadLink):
        signer.verify("confirm", f"{forged.partition('.')[0]}.{signature}", now=AT)
    with pytest.raises(BadLink) as late:
        signer.verify("confirm", token, now=AT + timedelta(hours=2))
    assert late.value.expired
