"""The mail sink: an SMTP server that keeps every message, sent nowhere.

``make run`` starts one (``python -m kontor_servicekit.mail sink``) and every service's
outgoing mail goes to it, one ``.eml`` file per message under ``.kontor/mail/``, so a
merchant on one machine can open what Kontor sent in any mail client. Tests use it
in a thread (:class:`ThreadedSink`, the ``mail_sink`` fixture) and read the messages
it collected.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from kontor_servicekit.mail.receiver import DEFAULT_MAX_BYTES, ReceivedMail, SmtpReceiver

__all__ = ["MailSink", "ThreadedSink", "parse"]


def parse(mail: ReceivedMail) -> EmailMessage:
    """The received bytes as an :class:`EmailMessage` (policy ``default``)."""
    message: EmailMessage = message_from_bytes(mail.data, policy=policy.default)
    return message


class MailSink:
    """Keeps each message in :attr:`messages` and, with a ``directory``, as a file."""

    def __init__(
        self,
        directory: Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.directory = directory
        self.messages: list[ReceivedMail] = []
        self._sequence = itertools.count(1)
        self.arrived = threading.Condition()
        """Notified after each message: what a test waits on."""
        self.receiver = SmtpReceiver(self._keep, host=host, port=port, max_bytes=max_bytes)

    async def _keep(self, mail: ReceivedMail) -> None:
        if self.directory is not None:
            await asyncio.to_thread(self._write, mail)
        with self.arrived:
            self.messages.append(mail)
            self.arrived.notify_all()

    def _write(self, mail: ReceivedMail) -> Path:
        assert self.directory is not None
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        name = f"{stamp}-{os.getpid()}-{next(self._sequence):05d}.eml"
        target = self.directory / name
        partial = target.with_suffix(".eml.part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(mail.data)
        partial.rename(target)  # a reader never sees half a message
        return target

    @property
    def port(self) -> int:
        return self.receiver.port

    async def start(self) -> None:
        await self.receiver.start()

    async def stop(self) -> None:
        await self.receiver.stop()


class ThreadedSink:
    """A :class:`MailSink` on its own event loop in a daemon thread (for tests).

    A thread, not the test's loop, so one sink serves sync and async tests alike and a
    service under test may send from whatever loop it runs on.
    """

    def __init__(self, directory: Path | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES):
        self.sink = MailSink(directory, max_bytes=max_bytes)
        self.host = "127.0.0.1"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.sink.port

    @property
    def messages(self) -> list[ReceivedMail]:
        return list(self.sink.messages)

    def parsed(self) -> list[EmailMessage]:
        """Every message so far, parsed."""
        return [parse(mail) for mail in self.messages]

    def smtp_settings(self) -> dict[str, object]:
        """Kit settings that send a service's mail here."""
        return {"smtp_host": self.host, "smtp_port": self.port, "smtp_security": "none"}

    def start(self) -> ThreadedSink:
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.sink.start())
            except BaseException as exc:
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self.sink.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="kontor-mail-sink", daemon=True)
        self._thread.start()
        started.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop = None
        self._thread = None

    def wait_for(
        self,
        count: int = 1,
        *,
        where: Callable[[EmailMessage], bool] | None = None,
        timeout: float = 10.0,
    ) -> list[EmailMessage]:
        """Block until ``count`` messages (matching ``where``) arrived; returns them."""
        found: list[EmailMessage] = []

        def enough() -> bool:
            found[:] = [m for m in self.parsed() if where is None or where(m)]
            return len(found) >= count

        with self.sink.arrived:
            if not self.sink.arrived.wait_for(enough, timeout):
                raise AssertionError(
                    f"expected {count} mail(s) in the sink within {timeout} s, got {len(found)}"
                )
        return found

    async def arrived(
        self,
        count: int = 1,
        *,
        where: Callable[[EmailMessage], bool] | None = None,
        timeout: float = 10.0,
    ) -> list[EmailMessage]:
        """:meth:`wait_for` for async tests (waits in a thread, not on the test's loop)."""
        return await asyncio.to_thread(self.wait_for, count, where=where, timeout=timeout)
