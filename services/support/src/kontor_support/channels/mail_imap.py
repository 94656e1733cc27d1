"""E-mail in by IMAP polling (issue 14, ADR 0047): an existing mailbox of the shop, read
every ``imap_poll_interval_s``.

One round opens a session (the standard library's ``imaplib``, in a worker thread: it
blocks), selects the mailbox, takes up to ``batch`` unseen messages by UID, oldest
first, and hands each to :func:`~kontor_support.channels.mail_smtp.store_mail` (the
same parsing and ticket threading as mail over SMTP). Only after the mail is stored is
it marked ``\\Seen`` (or deleted, ``imap_after=delete``): a round that dies in between
fetches it again, and ``receive`` knows it by its Message-ID (a mail without one gets
a Message-ID from the hash of its bytes). A mail that cannot be taken (too large, no
sender, refused) is marked ``\\Seen \\Flagged`` so the mailbox's owner sees it and it is
not fetched again; a database that is away ends the round and leaves the rest unseen.
Several replicas may poll the same mailbox: they store each mail once.
"""

from __future__ import annotations

import asyncio
import hashlib
import imaplib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from kontor_servicekit.domain_errors import DomainError, Unavailable

from kontor_support.channels.mail_in import MalformedMail

__all__ = [
    "ImapConfig",
    "ImapSession",
    "ImaplibSession",
    "fallback_message_id",
    "poll_mailbox",
]

log = logging.getLogger(__name__)

_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    username: str
    password: str
    mailbox: str = "INBOX"
    security: Literal["tls", "starttls", "none"] = "tls"
    timeout_s: float = 30.0
    after: Literal["seen", "delete"] = "seen"

    def __repr__(self) -> str:  # never print the password
        return f"ImapConfig({self.username}@{self.host}:{self.port}/{self.mailbox})"


class ImapSession(Protocol):
    """One logged-in session on the mailbox (blocking calls: run them in a thread)."""

    def unseen(self) -> list[tuple[str, int]]:
        """The UIDs of the unseen messages with their sizes, oldest first."""
        ...

    def fetch(self, uid: str) -> bytes: ...

    def mark(self, uid: str, flags: str) -> None:
        """Add ``flags`` (``\\Seen``, ``\\Seen \\Flagged``, ``\\Deleted``) to ``uid``."""
        ...

    def close(self) -> None:
        """Expunge what was deleted and log out."""
        ...


class ImapError(RuntimeError):
    """The server answered a command with NO or BAD."""


def _ok(answer: tuple[str, Sequence[Any]], what: str) -> list[Any]:
    status, data = answer
    if status != "OK":
        raise ImapError(f"IMAP {what}: {status} {data!r}")
    return list(data)


class ImaplibSession:
    """:class:`ImapSession` over the standard library's ``imaplib``."""

    def __init__(self, config: ImapConfig) -> None:
        context = ssl.create_default_context()
        if config.security == "tls":
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                config.host, config.port, ssl_context=context, timeout=config.timeout_s
            )
        else:
            client = imaplib.IMAP4(config.host, config.port, timeout=config.timeout_s)
            if config.security == "starttls":
                _ok(client.starttls(ssl_context=context), "STARTTLS")
        self.client = client
        self.deleted = False
        try:
            _ok(client.login(config.username, config.password), "LOGIN")
            _ok(client.select(_quoted(config.mailbox)), "SELECT")
        except BaseException:
            client.shutdown()
            raise

    def unseen(self) -> list[tuple[str, int]]:
        [found] = _ok(self.client.uid("SEARCH", "UNSEEN"), "SEARCH")
        uids = sorted(int(u) for u in (found or b"").split())
        if not uids:
            return []
        wanted = ",".join(str(u) for u in uids)
        sizes: dict[int, int] = {}
        for item in _ok(self.client.uid("FETCH", wanted, "(RFC822.SIZE)"), "FETCH SIZE"):
            line = item[0] if isinstance(item, tuple) else item
            match = _SIZE.search(line) if isinstance(line, bytes) else None
            if match is not None:
                uid, size = (match[1], match[2]) if match[1] else (match[4], match[3])
                sizes[int(uid)] = int(size)
        return [(str(u), sizes.get(u, 0)) for u in uids]

    def fetch(self, uid: str) -> bytes:
        for item in _ok(self.client.uid("FETCH", uid, "(BODY.PEEK[])"), "FETCH"):
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        raise ImapError(f"IMAP FETCH {uid}: no message in the answer")

    def mark(self, uid: str, flags: str) -> None:
        _ok(self.client.uid("STORE", uid, "+FLAGS", f"({flags})"), "STORE")
        self.deleted = self.deleted or "\\Deleted" in flags

    def close(self) -> None:
        try:
            if self.deleted:
                _ok(self.client.expunge(), "EXPUNGE")
            self.client.logout()
        except (OSError, imaplib.IMAP4.error) as exc:
            log.warning("IMAP logout failed: %s", exc)


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def fallback_message_id(domain: str) -> Callable[[bytes], str]:
    """A Message-ID for a mail that has none: the same bytes, the same id."""

    def of(raw: bytes) -> str:
        return f"<imap-{hashlib.sha256(raw).hexdigest()[:40]}@{domain}>"

    return of


async def poll_mailbox(
    open_session: Callable[[], ImapSession],
    store: Callable[[bytes], Awaitable[None]],
    *,
    max_bytes: int,
    batch: int = 50,
    after: Literal["seen", "delete"] = "seen",
) -> int:
    """One round: up to ``batch`` unseen mails stored and marked. Answers how many were
    stored (refused ones are flagged, not counted)."""
    session = await asyncio.to_thread(open_session)
    stored = 0
    try:
        for uid, size in (await asyncio.to_thread(session.unseen))[:batch]:
            if size > max_bytes:
                log.warning("IMAP mail %s of %d bytes is over %d: flagged", uid, size, max_bytes)
                await asyncio.to_thread(session.mark, uid, "\\Seen \\Flagged")
                continue
            raw = await asyncio.to_thread(session.fetch, uid)
            try:
                await store(raw)
            except Unavailable:
                raise  # the database is away: this and the rest stay unseen for next round
            except (MalformedMail, DomainError) as exc:
                log.warning("IMAP mail %s not taken (%s): flagged", uid, exc)
                await asyncio.to_thread(session.mark, uid, "\\Seen \\Flagged")
                continue
            await asyncio.to_thread(
                session.mark, uid, "\\Deleted" if after == "delete" else "\\Seen"
            )
            stored += 1
    finally:
        await asyncio.to_thread(session.close)
    return stored
