"""Sending mail over SMTP (aiosmtplib), telling a permanent refusal from a passing one.

A relay's 5xx answer (unknown recipient, message refused) will not change by trying
again: :class:`MailDeliveryError` says ``permanent``. A 4xx answer, a refused
connection, a timeout or a dropped connection may: ``permanent`` is false and the
caller's retry schedule (a deliveries queue, the outbox) decides when to try again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import aiosmtplib

from kontor_servicekit.mail.message import OutgoingMail, build_message

__all__ = ["MailDeliveryError", "SentMail", "SmtpConfig", "SmtpSender"]

log = logging.getLogger(__name__)

QUIT_TIMEOUT_S = 5.0
"""How long a sent mail's QUIT may wait for its answer."""

SmtpSecurity = Literal["none", "starttls", "tls"]


class MailDeliveryError(Exception):
    """The mail was not handed over. ``permanent``: a 5xx answer; do not try again.
    ``recipients_refused``: the relay refused the recipients themselves (``RCPT TO``), not
    the message or the connection: with ``permanent``, a hard bounce at the door."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: int | None = None,
        recipients_refused: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.recipients_refused = recipients_refused


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to hand mail over (the kit settings ``smtp_*`` and ``mail_from``)."""

    host: str = "127.0.0.1"
    port: int = 1025
    security: SmtpSecurity = "none"
    username: str | None = None
    password: str | None = None
    timeout_s: float = 30.0
    mail_from: str = "Kontor <noreply@kontor.local>"


@dataclass(frozen=True)
class SentMail:
    """What was handed over: the Message-ID and the relay's answer."""

    message_id: str
    response: str


class SmtpSender:
    """Sends :class:`OutgoingMail` through one SMTP relay; a connection per mail."""

    def __init__(self, config: SmtpConfig, *, clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self._clock = clock or (lambda: datetime.now(UTC))

    async def send(self, mail: OutgoingMail) -> SentMail:
        """Hand ``mail`` to the relay; raises :class:`MailDeliveryError`."""
        message = build_message(mail, sender=self.config.mail_from, now=self._clock())
        recipients = mail.recipients()
        envelope_from = mail.return_path or _bare(str(message["From"]))
        config = self.config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            timeout=config.timeout_s,
            use_tls=config.security == "tls",
            start_tls=config.security == "starttls",
            username=config.username,
            password=config.password,
        )
        try:
            await client.connect()
            try:
                errors, response = await client.send_message(
                    message, sender=envelope_from, recipients=recipients
                )
                # the mail is handed over: a QUIT unanswered changes nothing
                with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                    await client.quit(timeout=min(config.timeout_s, QUIT_TIMEOUT_S))
            finally:
                # a failed or cancelled send closes at once instead of waiting up to
                # ``timeout_s`` for the answer to a QUIT (a service stopping, ADR 0054)
                client.close()
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            raise MailDeliveryError(
                f"every recipient refused: {exc}",
                permanent=all(code >= 500 for code in codes),
                code=max(codes, default=None),
                recipients_refused=True,
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise MailDeliveryError(
                f"the relay answered {exc.code} {exc.message}",
                permanent=exc.code >= 500,
                code=exc.code,
            ) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailDeliveryError(
                f"could not reach the relay {config.host}:{config.port}: {exc!r}",
                permanent=False,
            ) from exc
        if errors:
            # some recipients took it: the mail is sent; the refused ones are logged, not
            # retried (a retry would send it twice to those who have it)
            log.warning("mail %s refused for %s", message["Message-ID"], sorted(errors))
        return SentMail(message_id=str(message["Message-ID"]), response=response)


def _bare(address: str) -> str:
    from email.utils import parseaddr

    return parseaddr(address)[1]
