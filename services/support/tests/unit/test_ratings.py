"""Customer satisfaction over the in-memory unit of work: solving a ticket that an agent
answered queues one rating mail with signed one-click links (never a second one, none
without an answer or an address); a click records the score and a later click changes
it; a forged, foreign-purpose or expired link rates nothing; the figures per agent and
channel; the erasure drops the comment and keeps the score."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.domain_errors import IllegalTransition, Invalid, NotFound
from kontor_servicekit.fakes import FakeTransactor
from kontor_servicekit.links import BadLink, LinkSigner
from kontor_servicekit.privacy.participant import Subject
from kontor_support.application.inbound import InboundMessage, receive
from kontor_support.application.privacy import SupportPrivacy
from kontor_support.application.ratings import (
    PURPOSE,
    RatingLinks,
    comment_by_link,
    link_data,
    rate_by_link,
)
from kontor_support.application.tickets import ChangeTicket, Reply, change_ticket, reply_to_ticket
from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.domain.delivery import Delivery
from kontor_support.domain.rating import Rating, RatingCount, summarise
from kontor_support.domain.ticket import Ticket
from kontor_support.store.memory import InMemorySupportUnitOfWork

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 2, 9, tzinfo=UTC)
Support = FakeTransactor[InMemorySupportUnitOfWork]
LINKS = RatingLinks(
    signer=LinkSigner(b"0123456789abcdef-rating"),
    base_url="https://support.example/",
    valid_for=timedelta(days=30),
    mail_domain="support.example",
)


async def solved_ticket(
    support: Support,
    clock: FakeClock,
    *,
    answered: bool = True,
    email: str | None = "a@x.de",
    subject: str = "Lieferung",
    language: str | None = None,
    agent_language: str | None = None,
) -> str:
    received = await receive(
        support,
        InboundMessage(
            channel="email" if email else "phone",
            received_at=clock(),
            body_text="Wo bleibt meine Bestellung?",
            from_email=email,
            from_name="Anna Kunde",
            from_phone=None if email else "+49301234567",
            subject=subject,
            message_id=f"<m-{answered}-{email}@example.org>" if email else None,
            external_id=None if email else "call-1",
            language=language,
        ),
        clock=clock,
    )
    if answered:
        await reply_to_ticket(
            support, received.ticket_id, Reply(body="Ist unterwegs.", agent="berta"), clock
        )
    clock.advance(timedelta(hours=1))
    await change_ticket(
        support,
        received.ticket_id,
        ChangeTicket(agent="carl", status="solved", language=agent_language),
        clock,
        ratings=LINKS,
    )
    return received.ticket_id


async def rating_mails(support: Support, ticket_id: str) -> list[Delivery]:
    async def read(uow: InMemorySupportUnitOfWork) -> list[Delivery]:
        found = uow.deliveries.table.where(  # type: ignore[attr-defined]
            lambda d: d.ticket_id == ticket_id and d.ticket_message_id.startswith("rating:")
        )
        return list(found)

    return await support.run(read)


async def stored_rating(support: Support, ticket_id: str) -> Rating | None:
    async def read(uow: InMemorySupportUnitOfWork) -> Rating | None:
        return await uow.ratings.get(ticket_id)

    return await support.run(read)


def links_of(mail: Delivery) -> dict[int, str]:
    """score -> the token of its link, from the mail's text."""
    found: dict[int, str] = {}
    for word in mail.body_text.split():
        if word.startswith("https://support.example/ratings/"):
            url = urlsplit(word)
            found[int(parse_qs(url.query)["score"][0])] = url.path.rsplit("/", 1)[1]
    return found


async def test_solving_an_answered_ticket_mails_one_rating_request() -> None:
    support: Support = FakeTransactor(InMemorySupportUnitOfWork)
    clock = FakeClock(AT)
    ticket_id = await solved_ticket(support, clock)

    [mail] = await rating_mails(support, ticket_id)
    assert mail.channel == "email" and mail.to_email == "a@x.de"
    assert mail.subject == f"Wie zufrieden waren Sie? [#{ticket_id}]"  # threads back
    assert mail.in_reply_to is not None and mail.message_id is not None
    assert mail.message_id.endswith("@support.example>")
    assert sorted(links_of(mail)) == [1, 2, 3, 4, 5]
    assert mail.body_html is not None and "score=5" in mail.body_html
    rating = await stored_rating(support, ticket_id)
    assert rating is not None
    assert (rating.agent, rating.channel, rating.score) == ("carl", "email", None)
    assert rating.expires_at == clock() + timedelta(days=30)

    # the customer writes again, the ticket opens, is solved again: not asked twice
    await receive(
        support,
        InboundMessage(
            channel="email",
            received_at=clock(),
            body_text="Doch noch eine Frage",
            from_email="a@x.de",
            subject=f"Re: Lieferung [#{ticket_id}]",
            message_id="<m-again@example.org>",
        ),
        clock=clock,
    )
    await reply_to_ticket(support, ticket_id, Reply(body="Gern.", agent="berta"), clock)
    await change_ticket(
        support, ticket_id, ChangeTicket(agent="carl", status="solved"), clock, ratings=LINKS
    )
    assert len(await rating_mails(support, ticket_id)) == 1


async def test_no_rating_request_without_an_answer_an_address_or_the_setup() -> None:
    support: Support = FakeTransactor(InMemorySupportUnitOfWork)
    clock = FakeClock(AT)
    unanswered = await solved_ticket(support, clock, answered=False)
    assert await rating_mails(support, unanswered) == []
    assert await stored_rating(support, unanswered) is None
    no_address = await solved_ticket(support, clock, email=None)
    assert await rating_mails(support, no_address) == []
    received = await receive(
        support,
        InboundMessage(
            channel="email",
            received_at=clock(),
            body_text="Frage",
            from_email="b@x.de",
            subject="Frage",
            message_id="<m-b@example.org>",
        ),
        clock=clock,
    )
    await reply_to_ticket(support, received.ticket_id, Reply(body="Antwort", agent="d"), clock)
    await change_ticket(
        support, received.ticket_id, ChangeTicket(agent="d", status="solved"), clock
    )
    assert await rating_mails(support, received.ticket_id) == []  # ratings=None: not set up


async def test_a_click_rates_a_later_click_changes_it_and_a_comment_follows() -> None:
    support: Support = FakeTransactor(InMemorySupportUnitOfWork)
    clock = FakeClock(AT)
    ticket_id = await solved_ticket(support, clock)
    [mail] = await rating_mails(support, ticket_id)
    token = links_of(mail)[2]  # every link of the mail carries the same token

    with pytest.raises(IllegalTransition):  # no words before a score
        await comment_by_link(support, LINKS, token, "Hm.", clock)
    clock.advance(timedelta(days=1))
    rated = await rate_by_link(support, LINKS, token, 2, clock)
    assert (rated.score, rated.rated_at) == (2, clock())
    changed = await rate_by_link(support, LINKS, token, 5, clock)
    assert changed.score == 5
    await comment_by_link(support, LINKS, token, "  Sehr schnell, danke!  ", clock)
    stored = await stored_rating(support, ticket_id)
    assert stored is not None and (stored.score, stored.comment) == (5, "Sehr schnell, danke!")
    with pytest.raises(Invalid):
        await rate_by_link(support, LINKS, token, 6, clock)
    with pytest.raises(Invalid):
        await comment_by_link(support, LINKS, token, "x" * 2001, clock)


async def test_forged_foreign_and_expired_links_rate_nothing() -> None:
    support: Support = FakeTransactor(InMemorySupportUnitOfWork)
    clock = FakeClock(AT)
    ticket_id = await solved_ticket(support, clock)
    [mail] = await rating_mails(support, ticket_id)
    token = links_of(mail)[5]

    other_key = LinkSigner(b"another key of 16 bytes or more")
    forged = other_key.sign(PURPOSE, {"t": ticket_id}, expires_at=clock() + timedelta(days=1))
    with pytest.raises(BadLink):
        await rate_by_link(support, LINKS, forged, 1, clock)
    foreign = LINKS.signer.sign("unsubscribe", {"t": ticket_id}, expires_at=None)
    with pytest.raises(BadLink):
        await rate_by_link(support, LINKS, foreign, 1, clock)
    unknown = LINKS.signer.sign(PURPOSE, {"t": "T-2026-999999"}, expires_at=None)
    with pytest.raises(NotFound):
        await rate_by_link(support, LINKS, unknown, 1, clock)
    altered = token.replace(token.split(".")[0], token.split(".")[0][:-2] + "AA")
    with pytest.raises(BadLink):
        await rate_by_link(support, LINKS, altered, 1, clock)
    clock.advance(timedelta(days=30))
    with pytest.raises(BadLink) as expired:
        await rate_by_link(support, LINKS, token, 1, clock)
    assert expired.value.expired
    stored = await stored_rating(support, ticket_id)
    assert stored is not None and stored.score is None


def test_figures_per_agent_and_channel() -> None:
    summary = summarise(
        [
            RatingCount("berta", "email", 5, 3),
            RatingCount("berta", "email", 2, 1),
            RatingCount("berta", "chat", None, 2),  # asked, not answered
            RatingCount("carl", "phone", 4, 1),
            RatingCount("carl", "email", 9, 1),  # outside the scale: not counted
        ]
    )
    assert (summary.overall.requested, summary.overall.rated) == (7, 5)
    assert summary.overall.average == round((15 + 2 + 4) / 5, 2)
    assert summary.overall.satisfied_share == 0.8
    berta = summary.by_agent["berta"]
    assert (berta.requested, berta.rated, berta.average) == (6, 4, 4.25)
    assert berta.satisfied_share == 0.75 and berta.response_rate == round(4 / 6, 4)
    assert list(summary.by_agent) == ["berta", "carl"]
    assert summary.by_channel["chat"].average is None
    assert summary.by_channel["chat"].response_rate == 0.0
    assert summary.by_channel["email"].scores == {1: 0, 2: 1, 3: 0, 4: 0, 5: 3}
    assert summarise([]).overall.average is None


async def test_erasure_drops_the_comment_and_keeps_the_score() -> None:
    support: Support = FakeTransactor(InMemorySupportUnitOfWork)
    clock = FakeClock(AT)
    ticket_id = await solved_ticket(support, clock)
    [mail] = await rating_mails(support, ticket_id)
    token = links_of(mail)[4]
    await rate_by_link(support, LINKS, token, 4, clock)
    await comment_by_link(support, LINKS, token, "Anna aus Berlin dankt", clock)
    privacy = SupportPrivacy()
    anna = Subject("subject-1", "a@x.de")

    async def export(uow: SupportUnitOfWork) -> dict[str, object]:
        return await privacy.export(anna, uow)

    [ticket] = (await support.run(export))["tickets"]  # type: ignore[misc]
    assert ticket["rating"]["score"] == 4
    assert ticket["rating"]["comment"] == "Anna aus Berlin dankt"

    async def erase(uow: SupportUnitOfWork) -> object:
        return await privacy.erase(anna, uow, clock())

    summary = await support.run(erase)
    counts = {i.what: i.count for i in summary.deleted + summary.anonymised}  # type: ignore[attr-defined]
    assert counts["rating_comments"] == 1
    stored = await stored_rating(support, ticket_id)
    assert stored is not None and (stored.score, stored.comment) == (4, None)


def test_the_figures_period_from_dates_and_its_bounds() -> None:
    from datetime import date

    from kontor_servicekit.clock import BERLIN
    from kontor_support.api.ratings import PeriodQuery

    since, until = PeriodQuery(date(2026, 11, 1), date(2026, 11, 30)).bounds(AT)
    assert since == datetime(2026, 11, 1, tzinfo=BERLIN)
    assert until == datetime(2026, 12, 1, tzinfo=BERLIN)  # through the last day
    assert PeriodQuery(None, None).bounds(AT) == (AT - timedelta(days=30), AT)
    for wrong in (
        PeriodQuery(date(1, 1, 1), None),  # would overflow before the check
        PeriodQuery(None, date(9999, 12, 31)),
        PeriodQuery(date(2026, 12, 2), date(2026, 12, 1)),
    ):
        with pytest.raises(Invalid) as refused:
            wrong.bounds(AT)
        assert refused.value.problems[0].location == "query"


async def test_what_a_refused_link_shows_the_person_who_clicked_it() -> None:
    from kontor_support.application.ratings import LinkRefused, refused_or

    support: Support = FakeTransactor(InMemorySupportUnitOfWork)
    clock = FakeClock(AT)
    ticket_id = await solved_ticket(support, clock)
    [mail] = await rating_mails(support, ticket_id)
    token = links_of(mail)[3]
    forged = LinkSigner(b"another key of 16 bytes or more").sign(
        PURPOSE, {"t": ticket_id}, expires_at=None
    )
    unknown = LINKS.signer.sign(PURPOSE, {"t": "T-2026-999999"}, expires_at=None)
    assert await refused_or(rate_by_link(support, LINKS, forged, 3, clock)) == LinkRefused(
        "the link is not signed by this shop", 403
    )
    assert (await refused_or(rate_by_link(support, LINKS, unknown, 3, clock))).status_code == 404  # type: ignore[union-attr]
    assert (await refused_or(rate_by_link(support, LINKS, token, 0, clock))).status_code == 422  # type: ignore[union-attr]
    assert (await refused_or(comment_by_link(support, LINKS, token, "x", clock))).status_code == 409  # type: ignore[union-attr]
    rated = await refused_or(rate_by_link(support, LINKS, token, 3, clock))
    assert isinstance(rated, Rating) and rated.score == 3
    clock.advance(timedelta(days=31))
    assert (await refused_or(rate_by_link(support, LINKS, token, 3, clock))).status_code == 410  # type: ignore[union-attr]


async def test_an_english_customer_s_rating_mail_is_english() -> None:
    """ADR 0122: the customer's mail said English: mail, link and rating are English."""
    support: Support = FakeTransactor(InMemorySupportUnitOfWork)
    clock = FakeClock(AT)
    ticket_id = await solved_ticket(support, clock, language="en")

    [mail] = await rating_mails(support, ticket_id)
    assert mail.subject == f"How satisfied were you? [#{ticket_id}]"
    assert mail.body_text.startswith("Hello Anna Kunde,\n\n")
    assert f"Your request “Lieferung” ({ticket_id}) has been solved." in mail.body_text
    assert "★★★★★ very satisfied: https://support.example/ratings/" in mail.body_text
    assert "The links are valid until 1 January 2027." in mail.body_text
    assert "zufrieden" not in mail.body_text + (mail.body_html or "")
    assert "very dissatisfied" in (mail.body_html or "")
    token = links_of(mail)[4]
    assert link_data(LINKS, token, now=clock()).language == "en"  # the page's language
    rated = await rate_by_link(support, LINKS, token, 4, clock)
    assert (rated.score, rated.language) == (4, "en")


async def test_the_order_s_locale_counts_and_the_agent_s_choice_outweighs_all() -> None:
    support: Support = FakeTransactor(InMemorySupportUnitOfWork)
    clock = FakeClock(AT)

    async def order(uow: InMemorySupportUnitOfWork) -> None:
        await uow.order_context.set(
            "o-7", {"order_number": "B-2026-000007", "email": "jo@x.uk", "locale": "en-GB"}, at=AT
        )

    await support.run(order)
    by_order = await solved_ticket(support, clock, email="jo@x.uk", subject="B-2026-000007")
    [mail] = await rating_mails(support, by_order)
    assert mail.subject.startswith("How satisfied")

    async def read(uow: InMemorySupportUnitOfWork) -> Ticket | None:
        return await uow.tickets.get(by_order)

    stored = await support.run(read)
    assert stored is not None and (stored.language, stored.language_source) == ("en", "order")

    # an English mail client of a German customer; the agent knows better
    chosen = await solved_ticket(
        support, clock, email="kai@x.de", language="en", agent_language="de"
    )
    [mail] = await rating_mails(support, chosen)
    assert mail.subject.startswith("Wie zufrieden waren Sie?")
    assert "sehr zufrieden" in mail.body_text


def test_a_link_from_before_the_language_is_german() -> None:
    old = LINKS.signer.sign(PURPOSE, {"t": "T-2026-000001"}, expires_at=None)
    assert link_data(LINKS, old, now=AT).language == "de"
    odd = LINKS.signer.sign(PURPOSE, {"t": "T-2026-000001", "l": "xx"}, expires_at=None)
    assert link_data(LINKS, odd, now=AT).language == "de"
