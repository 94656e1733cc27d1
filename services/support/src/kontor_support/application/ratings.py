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
from kontor_servicekit.links import BadLink, LinkSigner
from kontor_servicekit.uow import Transactor

from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.domain.delivery import Delivery
from kontor_support.domain.rating import SCORES, Rating
from kontor_support.domain.threading import new_message_id
from kontor_support.domain.ticket import Ticket

__all__ = [
    "PURPOSE",
    "LinkRefused",
    "RatingLinks",
    "ask_for_rating",
    "check_link",
    "comment_by_link",
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


async def check_link(links: RatingLinks, token: str, *, now: datetime) -> str:
    """The ticket of a link that admits (awaitable, for :func:`refused_or`)."""
    return ticket_of_token(links, token, now=now)


def rating_link(links: RatingLinks, token: str, score: int) -> str:
    return f"{links.base_url.rstrip('/')}/ratings/{token}?score={score}"


def ticket_of_token(links: RatingLinks, token: str, *, now: datetime) -> str:
    """The ticket a rating link is for; :class:`BadLink` if it does not admit."""
    data = links.signer.verify(PURPOSE, token, now=now)
    ticket_id = data.get("t")
    if not isinstance(ticket_id, str) or not ticket_id:
        raise NotFound("rating", "(link)")
    return ticket_id


def _stars(score: int) -> str:
    return "★" * score + "☆" * (5 - score)


def _mail_text(ticket: Ticket, token: str, links: RatingLinks, until: datetime) -> str:
    lines = [f"{_stars(s)} {SCORES[s]}: {rating_link(links, token, s)}" for s in (5, 4, 3, 2, 1)]
    return (
        f"Guten Tag{' ' + ticket.customer_name if ticket.customer_name else ''},\n\n"
        f"Ihre Anfrage „{ticket.subject}“ ({ticket.id}) ist gelöst. Wie zufrieden waren Sie "
        "mit unserer Hilfe? Ein Klick genügt:\n\n"
        + "\n".join(lines)
        + f"\n\nDie Links gelten bis {until:%d.%m.%Y}. Ist noch etwas offen, antworten Sie "
        "einfach auf diese Mail.\n\nIhr Kundenservice\n"
    )


def _mail_html(ticket: Ticket, token: str, links: RatingLinks, until: datetime) -> str:
    items = "".join(
        f'<li><a href="{escape(rating_link(links, token, s))}">'
        f"{_stars(s)} {escape(SCORES[s])}</a></li>"
        for s in (5, 4, 3, 2, 1)
    )
    return (
        f"<p>Ihre Anfrage „{escape(ticket.subject)}“ ({escape(ticket.id)}) ist gelöst. Wie "
        "zufrieden waren Sie mit unserer Hilfe? Ein Klick genügt:</p>"
        f"<ul>{items}</ul><p>Die Links gelten bis {until:%d.%m.%Y}. Ist noch etwas offen, "
        "antworten Sie einfach auf diese Mail.</p><p>Ihr Kundenservice</p>"
    )


async def ask_for_rating(
    uow: SupportUnitOfWork, ticket: Ticket, at: datetime, links: RatingLinks, *, actor: str
) -> Rating | None:
    """Ask the customer of the just solved ``ticket`` to rate it (in the solving unit of
    work; the caller saves the ticket). None when nobody is asked: no address, nobody of
    ours answered (a ticket solved without an answer was no help to rate), or asked
    before."""
    if ticket.customer_email is None or ticket.first_response_at is None:
        return None
    if await uow.ratings.get(ticket.id) is not None:
        return None
    rating = Rating(
        ticket_id=ticket.id,
        agent=ticket.assignee or actor,
        channel=ticket.channel,
        requested_at=at,
        expires_at=at + links.valid_for,
    )
    token = links.signer.sign(PURPOSE, {"t": ticket.id}, expires_at=rating.expires_at)
    delivery = Delivery(
        id=str(uuid.uuid4()),
        ticket_id=ticket.id,
        ticket_message_id=f"rating:{ticket.id}",
        channel="email",
        subject=f"Wie zufrieden waren Sie? [#{ticket.id}]",
        body_text=_mail_text(ticket, token, links, rating.expires_at),
        body_html=_mail_html(ticket, token, links, rating.expires_at),
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
