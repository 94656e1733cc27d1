"""The embedded database ends a transaction left open after its lifetime, not after 60 s.

A transaction that wrote a document and was then abandoned (its client gone, as after
a SIGKILL) makes every other writer of that document conflict; with the runtime's
lifetime the conflict ends after about that many seconds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kontor_local.runtime import DEFAULT_TRANSACTION_LIFETIME_S, Database, free_port
from pymongo import MongoClient
from pymongo.errors import OperationFailure


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    started = Database(free_port(), ":memory:", tmp_path, transaction_lifetime_s=2.0)
    started.start()
    yield started
    started.stop()


def conflicts(client: MongoClient[dict[str, object]]) -> bool:
    counters = client["lifetime"]["sequences"]
    with client.start_session() as session:
        session.start_transaction()
        try:
            counters.update_one({"_id": "n"}, {"$inc": {"value": 1}}, session=session)
        except OperationFailure as exc:
            if exc.has_error_label("TransientTransactionError"):
                return True
            raise
        finally:
            session.abort_transaction()
    return False


@pytest.mark.integration
def test_an_abandoned_transaction_stops_blocking_after_the_lifetime(database: Database) -> None:
    abandoned: MongoClient[dict[str, object]] = MongoClient(database.url)
    other: MongoClient[dict[str, object]] = MongoClient(database.url)
    try:
        other["lifetime"]["sequences"].insert_one({"_id": "n", "value": 0})
        session = abandoned.start_session()
        session.start_transaction()
        abandoned["lifetime"]["sequences"].update_one(
            {"_id": "n"}, {"$inc": {"value": 1}}, session=session
        )
        left_at = time.monotonic()  # never committed, never aborted
        assert conflicts(other)
        while conflicts(other):
            assert time.monotonic() - left_at < 10, "the transaction outlived its lifetime"
            time.sleep(0.05)
        blocked = time.monotonic() - left_at
        assert 1.5 <= blocked < 4.0, blocked
        assert other["lifetime"]["sequences"].find_one({"_id": "n"}) == {"_id": "n", "value": 0}
    finally:
        abandoned.close()
        other.close()


@pytest.mark.unit
def test_the_database_runs_through_the_wrapper_only_with_a_lifetime(tmp_path: Path) -> None:
    default = Database(1, ":memory:", tmp_path)
    assert default.transaction_lifetime_s == DEFAULT_TRANSACTION_LIFETIME_S == 5.0
    argv = default.argv()
    assert argv[:5] == [
        sys.executable,
        "-m",
        "kontor_local.secantusd",
        "--transaction-lifetime-seconds",
        "5",
    ]
    assert "--enable-test-commands" not in argv
    plain = Database(1, ":memory:", tmp_path, transaction_lifetime_s=None).argv()
    assert plain[:3] == [sys.executable, "-m", "secantus"]
    assert "--transaction-lifetime-seconds" not in plain
