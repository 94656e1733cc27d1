"""Customer satisfaction (issue 14): a rating mail when a ticket is solved, the customer's
one click on a signed link, and the comment they may add (ADR 0044).

:func:`ask_for_rating` runs in the unit of work that solves the ticket: it stores the
:class:`Rating` and queues the mail as an e-mail delivery of the ticket's thread (its
subject carries the ticket reference, so an answer to it lands on the ticket and opens
it again). The mail holds one link per score; the link is signed with the kit's
:class:`LinkSigner` (no table of links, every replica accepts it, no login) and names
the ticket, so a link cannot rate another ticket.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import TypeVar

from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import Conflict, Invalid, NotFound
from kontor_servicekit.languages import language_of_tag
from kontor_servicekit.links import BadLink, LinkSigner
from kontor_servicekit.uow import Transactor

from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.domain.delivery import Delivery
from kontor_support.domain.rating import Rating
from kontor_support.domain.rating_texts import RATING_TEXTS, RatingTexts, rating_texts
from kontor_support.domain.threading import new_message_id
from kontor_support.domain.ticket import Ticket

__all__ = [
    "PURPOSE",
    "LinkData",
    "LinkRefused",
    "RatingLinks",
    "ask_for_rating",
    "check_link",
    "comment_by_link",
    "customer_language",
    "link_data",
    "rate_by_link",
    "rating_link",
    "refused_or",
    "ticket_of_token",
]

PURPOSE = "ticket-rating"

T = TypeVar("T")


@dataclass(frozen=True)
class RatingLinks:
    """How rating mails are made: the link key, where customers reach the rating page,
    how long a link admits, the domain of the mails' Message-IDs."""

    signer: LinkSigner
    base_url: str
    valid_for: timedelta
    mail_domain: str


@dataclass(frozen=True)
class LinkRefused:
    """Why a rating link's page cannot do what was asked, with the HTTP status it shows."""

    reason: str
    status_code: int


async def refused_or(outcome: Awaitable[T]) -> T | LinkRefused:
    """``outcome``, or the refusal a person who clicked a link is shown instead: a link
    not signed by us (403), expired (410), for nothing known (404), a wrong input (422),
    a rating that cannot change any more (409). Anything else (a database away) raises."""
    try:
        return await outcome
    except BadLink as error:
        return LinkRefused(str(error), 410 if error.expired else 403)
    except NotFound as error:
        return LinkRefused(str(error), 404)
    except Invalid as error:
        return LinkRefused(str(error), 422)
    except Conflict:
        return LinkRefused("Dieser Link gilt nicht mehr.", 409)


async def check_link(links: RatingLinks, token: str, *, now: datetime) -> LinkData:
    """What a link that admits says (awaitable, for :func:`refused_or`)."""
    return link_data(links, token, now=now)


def rating_link(links: RatingLinks, token: str, score: int) -> str:
    return f"{links.base_url.rstrip('/')}/ratings/{token}?score={score}"


@dataclass(frozen=True)
class LinkData:
    """What a rating link that admits says: its ticket and the mail's language."""

    ticket_id: str
    language: str


def link_data(links: RatingLinks, token: str, *, now: datetime) -> LinkData:
    """The ticket a rating link is for and the language it was mailed in (German for a
    link from before ADR 0122); :class:`BadLink` if it does not admit."""
    data = links.signer.verify(PURPOSE, token, now=now)
    ticket_id = data.get("t")
    if not isinstance(ticket_id, str) or not ticket_id:
        raise NotFound("rating", "(link)")
    language = data.get("l")
    return LinkData(ticket_id, language if language in RATING_TEXTS else "de")


def ticket_of_token(links: RatingLinks, token: str, *, now: datetime) -> str:
    """The ticket a rating link is for; :class:`BadLink` if it does not admit."""
    return link_data(links, token, now=now).ticket_id


def _stars(score: int) -> str:
    return "★" * score + "☆" * (5 - score)


def _mail_text(
    ticket: Ticket, token: str, links: RatingLinks, until: datetime, t: RatingTexts
) -> str:
    lines = [f"{_stars(s)} {t.scores[s]}: {rating_link(links, token, s)}" for s in (5, 4, 3, 2, 1)]
    return (
        f"{t.greeting_for(ticket.customer_name)}\n\n"
        f"{t.solved.format(subject=ticket.subject, ticket=ticket.id)} {t.question}\n\n"
        + "\n".join(lines)
        + f"\n\n{t.valid_until.format(until=t.until(until))} {t.anything_open}\n\n"
        f"{t.signature}\n"
    )


def _mail_html(
    ticket: Ticket, token: str, links: RatingLinks, until: datetime, t: RatingTexts
) -> str:
    items = "".join(
        f'<li><a href="{escape(rating_link(links, token, s))}">'
        f"{_stars(s)} {escape(t.scores[s])}</a></li>"
        for s in (5, 4, 3, 2, 1)
    )
    solved = t.solved.format(subject=escape(ticket.subject), ticket=escape(ticket.id))
    return (
        f"<p>{solved} {escape(t.question)}</p><ul>{items}</ul>"
        f"<p>{escape(t.valid_until.format(until=t.until(until)))} {escape(t.anything_open)}</p>"
        f"<p>{escape(t.signature)}</p>"
    )


async def _order_locale(uow: SupportUnitOfWork, ticket: Ticket) -> str | None:
    """The locale of the ticket's order (``OrderPlaced.locale``), if one is known."""
    order = None
    if ticket.order_id is not None:
        order = await uow.order_context.get(ticket.order_id)
    if order is None and ticket.order_numbers:
        order = await uow.order_context.by_number(ticket.order_numbers[0])
    locale = order.get("locale") if order else None
    return locale if isinstance(locale, str) else None


async def customer_language(uow: SupportUnitOfWork, ticket: Ticket, at: datetime) -> str:
    """The language to write to the ticket's customer in (ADR 0122): what the agent or
    the customer said, else their order's locale (noted on the ticket), else German."""
    if ticket.language_source in (None, "order"):
        ticket.note_language(language_of_tag(await _order_locale(uow, ticket)), "order", at)
    return ticket.language or "de"


async def ask_for_rating(
    uow: SupportUnitOfWork, ticket: Ticket, at: datetime, links: RatingLinks, *, actor: str
) -> Rating | None:
    """Ask the customer of the just solved ``ticket`` to rate it (in the solving unit of
    work; the caller saves the ticket), in their language. None when nobody is asked: no
    address, nobody of ours answered (a ticket solved without an answer was no help to
    rate), or asked before."""
    if ticket.customer_email is None or ticket.first_response_at is None:
        return None
    if await uow.ratings.get(ticket.id) is not None:
        return None
    texts = rating_texts(await customer_language(uow, ticket, at))
    rating = Rating(
        ticket_id=ticket.id,
        agent=ticket.assignee or actor,
        channel=ticket.channel,
        requested_at=at,
        expires_at=at + links.valid_for,
        language=texts.language,
    )
    token = links.signer.sign(
        PURPOSE, {"t": ticket.id, "l": texts.language}, expires_at=rating.expires_at
    )
    delivery = Delivery(
        id=str(uuid.uuid4()),
        ticket_id=ticket.id,
        ticket_message_id=f"rating:{ticket.id}",
        channel="email",
        subject=f"{texts.subject} [#{ticket.id}]",
        body_text=_mail_text(ticket, token, links, rating.expires_at, texts),
        body_html=_mail_html(ticket, token, links, rating.expires_at, texts),
        created_at=at,
        to_email=ticket.customer_email,
        to_name=ticket.customer_name,
        message_id=new_message_id(links.mail_domain),
        in_reply_to=ticket.last_mail_id,
        references=ticket.thread_ids[-20:],
    )
    await uow.ratings.add(rating)
    await uow.deliveries.add(delivery)
    if delivery.message_id:
        ticket.remember_mail([delivery.message_id])
    ticket.rating_asked(at, delivery_id=delivery.id)
    return rating


async def rate_by_link(
    transactor: Transactor[SupportUnitOfWork],
    links: RatingLinks,
    token: str,
    score: int,
    clock: Clock,
) -> Rating:
    """The customer's click: the link's ticket gets ``score`` (a later click changes it)."""

    async def work(uow: SupportUnitOfWork) -> Rating:
        now = clock()
        rating = await _rating(uow, ticket_of_token(links, token, now=now))
        if rating.rate(score, now):
            await uow.ratings.save(rating)
        return rating

    return await transactor.run(work)


async def comment_by_link(
    transactor: Transactor[SupportUnitOfWork],
    links: RatingLinks,
    token: str,
    comment: str,
    clock: Clock,
) -> Rating:
    """The customer's words to the score they gave through the same link."""

    async def work(uow: SupportUnitOfWork) -> Rating:
        now = clock()
        rating = await _rating(uow, ticket_of_token(links, token, now=now))
        rating.add_comment(comment, now)
        await uow.ratings.save(rating)
        return rating

    return await transactor.run(work)


async def _rating(uow: SupportUnitOfWork, ticket_id: str) -> Rating:
    rating = await uow.ratings.get(ticket_id)
    if rating is None:  # signed by us but erased since, or a key shared with a test
        raise NotFound("rating", ticket_id)
    return rating
