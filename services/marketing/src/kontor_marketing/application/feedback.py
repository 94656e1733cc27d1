"""Bounces and complaints suppress an address (issue 15, ADR 0055).

:func:`take_feedback` is the handler of marketing's SMTP receiver for the bounce
address: each hard bounce or complaint a report mail carries suppresses the address the
reported mail went to (found by its id) or, for a mail it cannot find, the address the
report names. :func:`suppress_refused` does the same for a relay that refused the
recipient at the door (a 5xx to ``RCPT TO``). The mail sweeper skips every mail to a
suppressed address, confirmations included (ADR 0055).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.mail import ReceivedMail
from kontor_servicekit.uow import Transactor

from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.domain.feedback import (
    Feedback,
    Suppression,
    read_feedback,
    suppression_from,
    verp_mail_id,
)

log = logging.getLogger(__name__)


async def take_feedback(
    transactor: Transactor[MarketingUnitOfWork],
    received: ReceivedMail,
    *,
    bounce_address: str,
    clock: Clock,
) -> list[Suppression]:
    """The suppressions one report mail caused (none for a soft bounce or a non-report)."""
    verp_ids = [verp_mail_id(rcpt, bounce_address) for rcpt in received.rcpt_tos]
    envelope_id = next((mail_id for mail_id in verp_ids if mail_id), None)
    suppressed = []
    for feedback in read_feedback(received.data):
        mail_id = envelope_id or feedback.mail_id
        done = await transactor.run(
            lambda uow, f=feedback, m=mail_id: _suppress_for(uow, f, m, clock)  # type: ignore[misc]
        )
        if done is not None:
            log.info("mail %s: %s (%s), address suppressed", done.mail_id, done.reason, done.status)
            suppressed.append(done)
    return suppressed


async def _suppress_for(
    uow: MarketingUnitOfWork, feedback: Feedback, mail_id: str | None, clock: Clock
) -> Suppression | None:
    mail = await uow.mails.get(mail_id) if mail_id else None
    email = mail.mail.to if mail is not None else feedback.recipient
    if email is None:
        return None
    suppression = suppression_from(feedback, email, clock(), mail_id)
    if suppression is None or not await uow.suppressions.add(suppression):
        return None
    return suppression


def feedback_receiver(
    transactor: Transactor[MarketingUnitOfWork], *, bounce_address: str, clock: Clock
) -> Callable[[ReceivedMail], Awaitable[None]]:
    async def handle(received: ReceivedMail) -> None:
        await take_feedback(transactor, received, bounce_address=bounce_address, clock=clock)

    return handle


async def suppress_refused(
    uow: MarketingUnitOfWork, email: str, *, mail_id: str, code: int | None, clock: Clock
) -> None:
    """The relay refused the recipient for good when the mail was handed over."""
    status = f"{code} at RCPT" if code is not None else "refused at RCPT"
    await uow.suppressions.add(Suppression(email, "hard_bounce", clock(), status, mail_id))


async def lift_suppression(transactor: Transactor[MarketingUnitOfWork], email: str) -> Suppression:
    """Mail may go to ``email`` again (the person fixed their mailbox and asked anew)."""

    async def work(uow: MarketingUnitOfWork) -> Suppression:
        suppression = await uow.suppressions.get(email)
        if suppression is None:
            raise NotFound("suppression", email, message="no suppression of this e-mail address")
        await uow.suppressions.delete(email)
        return suppression

    return await transactor.run(work)
