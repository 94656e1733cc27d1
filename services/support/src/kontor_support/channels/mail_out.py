"""E-mail out: queued e-mail deliveries sent through the kit's SMTP sender.

A sweeper takes the due deliveries (queued, past any retry pause), claims each for
one attempt (so two replicas do not both send it), sends it with the Message-ID the
reply was stored with and the ``In-Reply-To``/``References`` of its ticket's thread,
and records the outcome: sent; or failed, retried after the queue's pause unless the
relay's answer was permanent (5xx). A process that dies between sending and
recording sends the mail again after the claim's lease (at least once; the same
Message-ID lets mail clients see it is the same mail).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from email.utils import formataddr
from typing import Protocol

from kontor_servicekit.blobs import Blob
from kontor_servicekit.clock import Clock
from kontor_servicekit.mail import MailAttachment, MailDeliveryError, OutgoingMail, SmtpSender
from kontor_servicekit.uow import Transactor

from kontor_support.application.deliveries import claim_delivery, mark_delivery
from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.domain.delivery import Delivery
from kontor_support.store.queries import SupportQueries

__all__ = ["outgoing_mail", "send_due_mail"]

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)


def outgoing_mail(delivery: Delivery, files: Sequence[MailAttachment] = ()) -> OutgoingMail:
    """The mail of one e-mail delivery, with ``files`` (its attachments' bytes) attached."""
    if delivery.to_email is None:
        raise ValueError(f"delivery {delivery.id} has no address")
    to = formataddr((delivery.to_name or "", delivery.to_email))
    return OutgoingMail(
        to=[to],
        subject=delivery.subject or f"[#{delivery.ticket_id}]",
        text=delivery.body_text,
        html=delivery.body_html,
        message_id=delivery.message_id or "",
        in_reply_to=delivery.in_reply_to,
        references=delivery.references,
        attachments=tuple(files),
    )


class BlobReader(Protocol):
    async def get(self, blob_id: str) -> Blob | None: ...


async def _files(delivery: Delivery, blobs: BlobReader | None) -> list[MailAttachment]:
    """The bytes of a delivery's attachments (an agent's chat file that goes by mail once
    the customer left, ADR 0123); one erased since is left out."""
    files = []
    for attachment in delivery.attachments:
        blob = await blobs.get(attachment.blob_id) if blobs is not None else None
        if blob is not None:
            files.append(MailAttachment(attachment.filename, attachment.content_type, blob.data))
    return files


async def send_due_mail(
    transactor: Transactor[SupportUnitOfWork],
    queries: SupportQueries,
    sender: SmtpSender,
    *,
    clock: Clock,
    limit: int = 50,
    blobs: BlobReader | None = None,
) -> int:
    """Send the due e-mail deliveries (one sweep round); answers how many went out."""
    sent = 0
    for due in await queries.queued_deliveries(limit, now=clock(), channel="email"):
        delivery = await claim_delivery(transactor, due.id, at=clock(), lease=CLAIM_LEASE)
        if delivery is None:
            continue
        try:
            await sender.send(outgoing_mail(delivery, await _files(delivery, blobs)))
        except MailDeliveryError as exc:
            log.warning("delivery %s not sent (%s): %s", delivery.id, exc.code, exc)
            await mark_delivery(
                transactor,
                delivery.id,
                "failed",
                at=clock(),
                error=str(exc),
                permanent=exc.permanent,
            )
            continue
        except ValueError as exc:  # a mail that cannot be built will never be sent
            await mark_delivery(
                transactor, delivery.id, "failed", at=clock(), error=str(exc), permanent=True
            )
            continue
        await mark_delivery(transactor, delivery.id, "sent", at=clock())
        sent += 1
    return sent
