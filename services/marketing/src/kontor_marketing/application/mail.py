"""Sending marketing's queued mails through a sender port, at a bounded rate.

:class:`MailSender` is the port (the kit's SMTP sender in ``main.py``, a recorder in
unit tests). :func:`send_due_mails` is one round of the mail sweeper: it claims the due
mails in one unit (so two replicas never send the same mail), sends each outside any
transaction, and records the outcome in a unit of its own. Advertising (a mail with a
topic) is checked against the person's consent **when it leaves**: an unsubscribe that
arrived after the campaign was planned stops it (UWG §7, issue 15).

A crash between sending and recording leaves the claim to run out: the mail is sent
again after the lease (at least once, never lost).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.domain.mail import Mail, QueuedMail


class MailSender(Protocol):
    async def send(self, mail: Mail) -> None:
        """Hand ``mail`` to the relay; raise if it was not accepted (an exception with
        ``permanent`` true: do not try again)."""
        ...


@dataclass
class RoundResult:
    sent: int = 0
    skipped: int = 0
    failed: int = 0


async def send_due_mails(
    transactor: Transactor[MarketingUnitOfWork],
    sender: MailSender,
    *,
    clock: Clock,
    limit: int,
) -> RoundResult:
    """Send at most ``limit`` due mails (the rate bound: ``limit`` per round)."""

    async def claim(uow: MarketingUnitOfWork) -> list[QueuedMail]:
        now = clock()
        due = await uow.mails.due(now, limit)
        for mail in due:
            mail.claim(now)
            await uow.mails.save(mail)
        return due

    result = RoundResult()
    for queued in await transactor.run(claim):
        if queued.topic is not None and not await _consented(transactor, queued):
            await _record(transactor, queued.id, lambda m: m.skipped("no consent"), clock)
            result.skipped += 1
            continue
        try:
            await sender.send(queued.mail)
        except Exception as exc:  # the relay refused or was unreachable: retried later
            reason = f"{type(exc).__name__}: {exc}"[:300]
            permanent = bool(getattr(exc, "permanent", False))

            def failed(mail: QueuedMail, why: str = reason, final: bool = permanent) -> None:
                mail.failed(why, clock(), permanent=final)

            await _record(transactor, queued.id, failed, clock)
            result.failed += 1
            continue
        await _record(transactor, queued.id, lambda m: m.sent(clock()), clock)
        result.sent += 1
    return result


async def _consented(transactor: Transactor[MarketingUnitOfWork], queued: QueuedMail) -> bool:
    async def check(uow: MarketingUnitOfWork) -> bool:
        consent = await uow.consents.get(queued.mail.to)
        return (
            consent is not None and queued.topic is not None and consent.may_receive(queued.topic)
        )

    return await transactor.run(check)


async def _record(
    transactor: Transactor[MarketingUnitOfWork],
    mail_id: str,
    change: Callable[[QueuedMail], None],
    clock: Clock,
) -> None:
    async def work(uow: MarketingUnitOfWork) -> None:
        mail = await uow.mails.get(mail_id)
        if mail is None or mail.status != "sending":
            return
        change(mail)
        await uow.mails.save(mail)

    await transactor.run(work)
