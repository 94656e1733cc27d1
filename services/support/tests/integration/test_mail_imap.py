"""E-mail in by IMAP polling (issue 14, ADR 0047) against a real IMAP server: pymap, an
asyncio IMAP4rev1 server (its in-memory backend) started by the test on a free port.
Customer mails in the mailbox become tickets; each stored mail is marked seen, one too
large or without a sender is flagged and not stored; a mail fetched again (a crash
before it was marked) is stored once, also one without a Message-ID."""

from __future__ import annotations

import imaplib
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from kontor_local.runtime import free_port
from kontor_servicekit.testing import eventually

pytestmark = pytest.mark.integration

USER, PASSWORD = "support@kontor.local", "imap-test-password"


@pytest.fixture
def imap_server(tmp_path: Path) -> Iterator[int]:
    """pymap on 127.0.0.1 (no TLS), one mailbox user; stopped after the test."""
    port = free_port()
    log = (tmp_path / "pymap.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pymap.main import main; sys.exit(main())",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-tls",
            "--no-service",
            "admin",
            "dict",
            "--demo-user",
            USER,
            "--demo-password",
            PASSWORD,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_login(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def _wait_for_login(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            with _mailbox(port):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class _mailbox:
    """The mailbox as the shop's mail client sees it (imaplib, logged in, INBOX)."""

    def __init__(self, port: int) -> None:
        self.port = port

    def __enter__(self) -> imaplib.IMAP4:
        self.client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        self.client.login(USER, PASSWORD)
        self.client.select("INBOX")
        return self.client

    def __exit__(self, *_: object) -> None:
        self.client.logout()


def mail(sender: str | None, subject: str, body: str, message_id: str | None) -> bytes:
    message = EmailMessage()
    if sender:
        message["From"] = sender
    message["To"] = USER
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    message.set_content(body)
    return message.as_bytes()


def flags(port: int) -> dict[str, set[str]]:
    """Subject -> the flags of that mail on the server."""
    found: dict[str, set[str]] = {}
    with _mailbox(port) as client:
        _, data = client.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        for item in data:
            if isinstance(item, tuple):
                head, header = item
                subject = header.decode().partition(":")[2].strip()
                inside = head.decode().partition("FLAGS (")[2].partition(")")[0]
                found[subject] = {f for f in inside.split() if f != "\\Recent"}
    return found


async def test_mails_in_the_mailbox_become_tickets_once_and_refused_ones_are_flagged(
    start_service: Any, imap_server: int
) -> None:
    port = imap_server
    with _mailbox(port) as client:
        for raw in (
            mail(
                "Anna Muster <anna@example.de>",
                "Wo bleibt B-2026-000042?",
                "Noch nicht da.",
                "<i1@example.de>",
            ),
            mail(
                "Bert <bert@example.de>", "Ohne Kennung", "Meine Mail hat keine Message-ID.", None
            ),
            mail(None, "Ohne Absender", "Wer schreibt hier?", "<i3@example.de>"),
            mail("Carla <carla@example.de>", "Zu gross", "x" * 6000, "<i4@example.de>"),
        ):
            client.append("INBOX", None, None, raw)
    settings = {
        "imap_host": "127.0.0.1",
        "imap_port": port,
        "imap_security": "none",
        "imap_username": USER,
        "imap_password": PASSWORD,
        "imap_poll_interval_s": 0.2,
        "smtp_receiver_max_bytes": 4096,
    }
    async with start_service("support", **settings) as support:

        async def both_stored() -> list[dict[str, Any]] | None:
            page = (await support.client.get("/tickets", params={"channel": "email"})).json()
            return page["items"] if page["total"] == 2 else None

        tickets = await eventually(both_stored, timeout=30)
        by_customer = {t["customer_email"]: t for t in tickets}
        assert set(by_customer) == {"anna@example.de", "bert@example.de"}
        assert by_customer["anna@example.de"]["order_numbers"] == ["B-2026-000042"]

        async def all_marked() -> dict[str, set[str]] | None:
            seen = flags(port)
            return seen if all("\\Seen" in f for f in seen.values()) else None

        marked = await eventually(all_marked, timeout=15)
        assert "\\Flagged" not in marked["Wo bleibt B-2026-000042?"]
        assert "\\Flagged" not in marked["Ohne Kennung"]
        assert "\\Flagged" in marked["Ohne Absender"]  # no sender: not stored, flagged
        assert "\\Flagged" in marked["Zu gross"]  # over the size limit: flagged

        # as after a crash between storing and marking: both unseen again, fetched again
        with _mailbox(port) as client:
            client.uid("STORE", "1:*", "-FLAGS", "(\\Seen)")

        async def fetched_again() -> bool:
            return all("\\Seen" in f for f in flags(port).values())

        await eventually(fetched_again, timeout=15)
        page = (await support.client.get("/tickets", params={"channel": "email"})).json()
        assert page["total"] == 2
        for ticket in page["items"]:
            shown = (await support.client.get(f"/tickets/{ticket['id']}")).json()
            assert len(shown["messages"]) == 1, ticket  # stored once, Message-ID or not
