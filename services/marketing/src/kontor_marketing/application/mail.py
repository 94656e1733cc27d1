"""Sending marketing's queued mails through a sender port, at a bounded rate.

:class:`MailSender` is the port (the kit's SMTP sender in ``main.py``, a recorder in
unit tests). :func:`send_due_mails` is one round of the mail sweeper: it claims the due
mails in one unit (so two replicas never send the same mail), sends each outside any
transaction, and records the outcome in a unit of its own. Advertising (a mail with a
topic) is checked against the person's consent **when it leaves**: an unsubscribe that
arrived after the campaign was planned stops it (UWG §7, issue 15). Advertising that
falls due inside quiet hours is put back until they end, whichever flow queued it and
whenever it was queued (a retry, a backlog after an outage); the double opt-in
confirmation is exempt (ADR 0119). No mail at all goes
to an address suppressed after a hard bounce or a complaint (ADR 0055); a relay that
refuses the recipient for good suppresses it too. Each mail leaves tagged with its id
(``X-Kontor-Mail``, the VERP envelope sender) so that reports find it.

A crash between sending and recording leaves the claim to run out: the mail is sent
again after the lease (at least once, never lost).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_marketing.application.feedback import suppress_refused
from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.domain.campaign import QuietHours
from kontor_marketing.domain.consent import may_advertise
from kontor_marketing.domain.feedback import tagged
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
    held: int = 0
    """Due inside quiet hours: put back until they end."""


async def send_due_mails(
    transactor: Transactor[MarketingUnitOfWork],
    sender: MailSender,
    *,
    clock: Clock,
    limit: int,
    uwg_7_3: bool = False,
    quiet: QuietHours | None = None,
) -> RoundResult:
    """Send at most ``limit`` due mails (the rate bound: ``limit`` per round);
    ``uwg_7_3``: the existing-customer exception (ADR 0051), off unless set; ``quiet``:
    the quiet hours advertising waits out (None: none)."""

    async def claim(uow: MarketingUnitOfWork) -> tuple[list[QueuedMail], int]:
        now = clock()
        claimed, waiting = [], 0
        for mail in await uow.mails.due(now, limit):
            if quiet is not None and mail.wait_for_quiet_hours(quiet, now):
                waiting += 1
            else:
                mail.claim(now)
                claimed.append(mail)
            await uow.mails.save(mail)
        return claimed, waiting

    claimed, waiting = await transactor.run(claim)
    result = RoundResult(held=waiting)
    for queued in claimed:
        held = await _held_back(transactor, queued, uwg_7_3)
        if held is not None:
            await _record(transactor, queued.id, partial(QueuedMail.skipped, reason=held), clock)
            result.skipped += 1
            continue
        try:
            await sender.send(tagged(queued.mail, queued.id))
        except Exception as exc:  # the relay refused or was unreachable: retried later
            reason = f"{type(exc).__name__}: {exc}"[:300]
            permanent = bool(getattr(exc, "permanent", False))
            refused = permanent and bool(getattr(exc, "recipients_refused", False))
            code: int | None = getattr(exc, "code", None)

            def failed(mail: QueuedMail, why: str = reason, final: bool = permanent) -> None:
                mail.failed(why, clock(), permanent=final)

            suppress = partial(
                suppress_refused, email=queued.mail.to, mail_id=queued.id, code=code, clock=clock
            )
            await _record(transactor, queued.id, failed, clock, also=suppress if refused else None)
            result.failed += 1
            continue
        await _record(transactor, queued.id, lambda m: m.sent(clock()), clock)
        result.sent += 1
    return result


async def _held_back(
    transactor: Transactor[MarketingUnitOfWork], queued: QueuedMail, uwg_7_3: bool
) -> str | None:
    """Why ``queued`` may not leave now (its address suppressed, advertising without
    consent), else None."""

    async def check(uow: MarketingUnitOfWork) -> str | None:
        suppression = await uow.suppressions.get(queued.mail.to)
        if suppression is not None:
            return f"suppressed: {suppression.reason}"
        if queued.topic is None:
            return None
        consent = await uow.consents.get(queued.mail.to)
        profile = await uow.profiles.get(queued.mail.to) if uwg_7_3 else None
        ordered = profile is not None and bool(profile.kept_orders())
        if may_advertise(consent, queued.topic, has_ordered=ordered, uwg_7_3=uwg_7_3):
            return None
        return "no consent"

    return await transactor.run(check)


async def _record(
    transactor: Transactor[MarketingUnitOfWork],
    mail_id: str,
    change: Callable[[QueuedMail], None],
    clock: Clock,
    *,
    also: Callable[[MarketingUnitOfWork], Awaitable[None]] | None = None,
) -> None:
    async def work(uow: MarketingUnitOfWork) -> None:
        mail = await uow.mails.get(mail_id)
        if mail is None or mail.status != "sending":
            return
        change(mail)
        await uow.mails.save(mail)
        if also is not None:
            await also(uow)

    await transactor.run(work)
