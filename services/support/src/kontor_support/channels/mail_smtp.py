"""E-mail in over SMTP: the kit's receiver hands each accepted mail to ``receive``.

The receiver (``kontor_servicekit.mail.SmtpReceiver``) runs on the service's loop on
``smtp_receiver_host:smtp_receiver_port`` (127.0.0.1:2525 in ``make run``). Each mail
is parsed (:func:`~kontor_support.channels.mail_in.parse_mail`) and put on its ticket;
the SMTP answer comes after the unit of work committed, so a ``250`` means the mail is
stored. A mail without a sender is refused (550); a database that is away answers 451
(the kit's receiver), and the sending server tries again later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from kontor_servicekit.blobs import BlobWriter
from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import DomainError
from kontor_servicekit.mail import MailRejected, ReceivedMail
from kontor_servicekit.mail.receiver import MailHandler
from kontor_servicekit.uow import Transactor

from kontor_support.application.inbound import receive
from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.channels.mail_in import MailLimits, MalformedMail, parse_mail

__all__ = ["accepting", "mail_receiver", "store_mail"]

log = logging.getLogger(__name__)


def accepting(addresses: str) -> Callable[[str], bool] | None:
    """The recipient rule of the setting ``smtp_receiver_accept``: comma-separated
    addresses (``support@shop.de``) and domains (``@shop.de``); empty: any recipient."""
    wanted = {part.strip().lower() for part in addresses.split(",") if part.strip()}
    if not wanted:
        return None

    def accepts(recipient: str) -> bool:
        address = recipient.strip().lower()
        domain = "@" + address.rpartition("@")[2]
        return address in wanted or domain in wanted

    return accepts


async def store_mail(
    transactor: Transactor[SupportUnitOfWork],
    raw: bytes,
    *,
    clock: Clock,
    blobs: BlobWriter,
    limits: MailLimits | None = None,
    envelope_from: str | None = None,
    fallback_id: Callable[[bytes], str] | None = None,
) -> None:
    """Parse one raw mail and put it on its ticket (SMTP and IMAP alike). Raises
    :class:`MalformedMail` (no sender) or a ``DomainError`` (it cannot be kept); a mail
    without a Message-ID gets ``fallback_id(raw)`` where given, so a mail fetched twice
    is stored once."""
    message = parse_mail(raw, received_at=clock(), limits=limits, envelope_from=envelope_from)
    if message.message_id is None and fallback_id is not None:
        message = replace(message, message_id=fallback_id(raw))
    received = await receive(transactor, message, clock=clock, blobs=blobs)
    log.info(
        "mail %s from %s on ticket %s%s",
        message.message_id,
        message.from_email,
        received.ticket_id,
        " (known already)" if received.duplicate else "",
    )


def mail_receiver(
    transactor: Transactor[SupportUnitOfWork],
    *,
    clock: Clock,
    blobs: BlobWriter,
    limits: MailLimits | None = None,
) -> MailHandler:
    """The handler the SMTP receiver calls for each mail."""

    async def on_mail(mail: ReceivedMail) -> None:
        try:
            await store_mail(
                transactor,
                mail.data,
                clock=clock,
                blobs=blobs,
                limits=limits,
                envelope_from=mail.mail_from,
            )
        except MalformedMail as exc:
            raise MailRejected(550, f"5.6.0 {exc}") from exc
        except DomainError as exc:
            raise MailRejected(550, f"5.6.0 the message cannot be kept: {exc}") from exc

    return on_mail
