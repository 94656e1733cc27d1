"""The IMAP polling round over a fake session: what is stored is marked (seen, or deleted
with ``imap_after=delete``), what is refused is flagged, a database that is away ends the
round and leaves the rest unseen, at most ``batch`` mails a round, the session is always
closed; a mail without a Message-ID gets the same fallback id each time."""

from __future__ import annotations

import pytest
from kontor_servicekit.domain_errors import Invalid, Unavailable
from kontor_support.channels.mail_imap import fallback_message_id, poll_mailbox
from kontor_support.channels.mail_in import MalformedMail

pytestmark = pytest.mark.unit


class FakeSession:
    def __init__(self, mails: dict[str, bytes]) -> None:
        self.mails = mails
        self.marks: dict[str, str] = {}
        self.closed = 0

    def unseen(self) -> list[tuple[str, int]]:
        return [(uid, len(raw)) for uid, raw in self.mails.items() if uid not in self.marks]

    def fetch(self, uid: str) -> bytes:
        return self.mails[uid]

    def mark(self, uid: str, flags: str) -> None:
        self.marks[uid] = flags

    def close(self) -> None:
        self.closed += 1


async def test_stored_marked_refused_flagged_and_the_database_away_ends_the_round() -> None:
    session = FakeSession(
        {"1": b"ok", "2": b"no sender", "3": b"refused", "4": b"x" * 100, "5": b"db", "6": b"ok"}
    )
    stored: list[bytes] = []

    async def store(raw: bytes) -> None:
        if raw == b"no sender":
            raise MalformedMail("no From")
        if raw == b"refused":
            raise Invalid("cannot be kept")
        if raw == b"db":
            raise Unavailable("the database is away")
        stored.append(raw)

    with pytest.raises(Unavailable):
        await poll_mailbox(lambda: session, store, max_bytes=50, after="delete")
    assert stored == [b"ok"]
    assert session.marks == {
        "1": "\\Deleted",
        "2": "\\Seen \\Flagged",
        "3": "\\Seen \\Flagged",
        "4": "\\Seen \\Flagged",  # over max_bytes: never fetched
    }
    assert session.closed == 1  # closed also when the round ends early
    # the next round takes up where it stopped, at most `batch` mails
    del session.mails["5"]
    assert await poll_mailbox(lambda: session, store, max_bytes=50, batch=1) == 1
    assert session.marks["6"] == "\\Seen" and session.closed == 2


def test_a_mail_without_message_id_gets_the_same_id_each_time() -> None:
    of = fallback_message_id("support.example")
    assert of(b"mail") == of(b"mail") != of(b"other mail")
    assert of(b"mail").startswith("<imap-") and of(b"mail").endswith("@support.example>")
