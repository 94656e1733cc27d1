"""Support as a privacy participant (issue 13, ADR 0035; ADR 0043).

- **Export**: the customer record (name, phones), every ticket of the address with its
  messages (direction, channel, time, text, attachments' names) and the rating given,
  the chats it opened.
- **Erasure**: the tickets stay for the merchant's figures (channel, states, times,
  SLA) but lose everything that names or quotes the person: the customer's address,
  name and phone, the subject, every message's text, HTML, sender and attachments
  (their files are deleted from the blob store), queued replies to the address (the
  rating mail too), a rating's comment (its score stays for the figures). The
  customer record and the chats are deleted; the order context forgets the address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kontor_contracts.events.orders import ErasedItem
from kontor_servicekit.blobs import BlobWriter
from kontor_servicekit.privacy.participant import ErasureSummary, Subject

from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.domain.threading import normalise_email
from kontor_support.domain.ticket import Ticket

ERASED = "(erased)"


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


@dataclass(frozen=True)
class Anonymised:
    """What :func:`anonymise_ticket` touched; ``blob_ids``: the files to delete after."""

    messages: int
    deliveries: int
    comments: int
    blob_ids: list[str]


async def anonymise_ticket(uow: SupportUnitOfWork, ticket: Ticket) -> Anonymised:
    """Strip ``ticket`` of everything that names or quotes its customer (the erasure and
    the retention period alike): address, name, phone, subject, every message's text,
    HTML, sender and attachments, its queued replies, its rating's comment. The ticket is
    saved; the caller deletes the files in ``blob_ids`` once the unit of work committed."""
    blob_ids: list[str] = []
    messages = comments = 0
    for message in await uow.messages.of_ticket(ticket.id):
        blob_ids += [a.blob_id for a in message.attachments]
        message.body_text, message.body_html, message.subject = ERASED, None, None
        message.author = message.from_email = message.from_name = None
        message.from_phone = None
        message.attachments = ()
        await uow.messages.save(message)
        messages += 1
    deliveries = await uow.deliveries.erase_of_ticket(ticket.id)
    rating = await uow.ratings.get(ticket.id)
    if rating is not None and rating.comment is not None:
        rating.comment = None  # the score stays for the figures, the words go
        await uow.ratings.save(rating)
        comments += 1
    ticket.customer_email = ticket.customer_name = ticket.customer_phone = None
    ticket.subject = ERASED
    await uow.tickets.save(ticket)
    return Anonymised(messages, deliveries, comments, blob_ids)


class SupportPrivacy:
    def __init__(self, blobs: BlobWriter | None = None) -> None:
        self.blobs = blobs

    async def export(self, subject: Subject, uow: SupportUnitOfWork) -> dict[str, Any]:
        email = normalise_email(subject.email) or subject.email
        customer = await uow.customers.get(email)
        tickets = []
        for ticket in await uow.tickets.of_customer(email):
            messages = await uow.messages.of_ticket(ticket.id)
            rating = await uow.ratings.get(ticket.id)
            tickets.append(
                {
                    "id": ticket.id,
                    "subject": ticket.subject,
                    "channel": ticket.channel,
                    "status": ticket.status,
                    "created_at": _iso(ticket.created_at),
                    "messages": [
                        {
                            "direction": m.direction,
                            "channel": m.channel,
                            "at": _iso(m.at),
                            "text": m.body_text,
                            "attachments": [a.filename for a in m.attachments],
                        }
                        for m in messages
                        if not m.internal
                    ],
                    "rating": None
                    if rating is None or rating.score is None
                    else {
                        "score": rating.score,
                        "comment": rating.comment,
                        "rated_at": _iso(rating.rated_at),
                    },
                }
            )
        chats = await uow.chats.of_customer(email)
        return {
            "customer": None
            if customer is None
            else {"name": customer.get("name"), "phones": list(customer.get("phones") or [])},
            "tickets": tickets,
            "chats": [{"id": c.id, "opened_at": _iso(c.created_at)} for c in chats],
        }

    async def erase(
        self, subject: Subject, uow: SupportUnitOfWork, now: datetime
    ) -> ErasureSummary:
        email = normalise_email(subject.email) or subject.email
        blob_ids: list[str] = []
        tickets = messages = deliveries = comments = 0
        for ticket in await uow.tickets.of_customer(email):
            done = await anonymise_ticket(uow, ticket)
            blob_ids += done.blob_ids
            messages += done.messages
            deliveries += done.deliveries
            comments += done.comments
            tickets += 1
        chats = await uow.chats.forget(email)
        customers = await uow.customers.forget(email)
        orders = await uow.order_context.forget_customer(email)
        if self.blobs is not None:
            for blob_id in blob_ids:  # files are not transactional: gone once asked
                await self.blobs.delete(blob_id)
        return ErasureSummary(
            deleted=[
                ErasedItem(what="customers", count=customers),
                ErasedItem(what="chats", count=chats),
                ErasedItem(what="attachments", count=len(blob_ids)),
                ErasedItem(what="queued_replies", count=deliveries),
            ],
            anonymised=[
                ErasedItem(what="tickets", count=tickets),
                ErasedItem(what="ticket_messages", count=messages),
                ErasedItem(what="rating_comments", count=comments),
                ErasedItem(what="order_context", count=orders),
            ],
        )
