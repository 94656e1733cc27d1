"""Receiving mail over SMTP (aiosmtpd) on the service's own event loop.

:class:`SmtpReceiver` listens with ``loop.create_server`` (not aiosmtpd's
``Controller``, which runs a second loop in a thread): the handler callback runs on
the loop the service's database client and producer live on. What the receiver
refuses before the handler sees anything:

- a message over ``max_bytes`` (``552``, also announced as the ``SIZE`` extension so a
  client can give up before sending it);
- a recipient ``accepts`` says no to (``550 5.1.1``);
- a message without a header section or without a ``From`` header (``550 5.6.0``): it
  cannot be answered and is most likely not a mail.

The handler may raise :class:`MailRejected` for a refusal of its own; any other
exception is logged and answered ``451`` (the client's server tries again later), so
no message crashes the receiver.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["MailHandler", "MailRejected", "ReceivedMail", "SmtpReceiver"]

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class ReceivedMail:
    """One message as it arrived: the SMTP envelope and the raw RFC 5322 bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    peer: str = ""


class MailRejected(Exception):
    """Raised by a handler to refuse a message with an SMTP status (5xx or 4xx)."""

    def __init__(self, code: int, text: str) -> None:
        if not 400 <= code < 600:
            raise ValueError("an SMTP refusal is a 4xx or 5xx status")
        super().__init__(f"{code} {text}")
        self.code = code
        self.text = text


MailHandler = Callable[[ReceivedMail], Awaitable[None]]


def looks_like_mail(data: bytes) -> bool:
    """A header section with a From header: the least a message must have."""
    first_line = data.split(b"\n", 1)[0]
    if b":" not in first_line or first_line[:1] in (b" ", b"\t"):
        return False
    headers = BytesHeaderParser(policy=compat32).parsebytes(data)
    return bool(headers.get("From", "").strip())


class _Handler:
    """aiosmtpd's handler protocol, forwarding accepted messages to ``handler``."""

    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        accepts = self.receiver.accepts
        if accepts is not None and not accepts(address):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        if isinstance(data, str):  # decode_data is off; keep mypy and odd clients honest
            data = data.encode("utf-8", "surrogateescape")
        if not looks_like_mail(data):
            self.receiver.refused += 1
            return "550 5.6.0 malformed message: no header section with a From header"
        peer = session.peer
        mail = ReceivedMail(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=data,
            peer=str(peer[0]) if isinstance(peer, tuple) else str(peer or ""),
        )
        try:
            await self.receiver.handler(mail)
        except MailRejected as exc:
            self.receiver.refused += 1
            return str(exc)
        except Exception:
            log.exception("mail from %s could not be handled; asked to retry", mail.mail_from)
            return "451 4.3.0 could not take the message now, try again later"
        self.receiver.received += 1
        return "250 OK message accepted"


class SmtpReceiver:
    """An SMTP server calling ``handler`` for each accepted message.

    ``accepts``: a predicate on each recipient address (None: any recipient).
    ``port`` 0 picks a free port; :attr:`port` tells which after :meth:`start`.
    """

    def __init__(
        self,
        handler: MailHandler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        accepts: Callable[[str], bool] | None = None,
        hostname: str = "kontor.local",
        timeout_s: float = 60.0,
    ) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.max_bytes = max_bytes
        self.accepts = accepts
        self.hostname = hostname
        self.timeout_s = timeout_s
        self.received = 0
        self.refused = 0
        self._server: asyncio.Server | None = None
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def _protocol(self) -> SMTP:
        session = SMTP(
            _Handler(self),
            data_size_limit=self.max_bytes,
            enable_SMTPUTF8=True,
            hostname=self.hostname,
            ident="Kontor SMTP",
            timeout=self.timeout_s,
        )
        self._sessions.add(session)
        return session

    async def start(self) -> None:
        """Listen on ``host:port`` on the running loop."""
        if self._server is not None:
            return
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, self.port)
        sockets = self._server.sockets or ()
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("SMTP receiver listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening; sessions under way are closed."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for session in list(self._sessions):  # close() leaves open connections open
            transport = getattr(session, "transport", None)
            if transport is not None:
                transport.close()
        await asyncio.wait_for(server.wait_closed(), timeout=5)

    def runs_with(self, definition: Any) -> SmtpReceiver:
        """Start with a ServiceDefinition (``on_started``) and stop before it stops."""

        async def started(_: Any) -> None:
            await self.start()

        async def stopping(_: Any) -> None:
            await self.stop()

        definition.on_started.append(started)
        definition.on_stopping.append(stopping)
        return self
