"""Issue 9: the local database asks for a password (SecantusDB ``--auth``, SCRAM-SHA-256).

Without it every local user could read and change every service's data through
127.0.0.1:27017. The password is created on the first start (``keys/mongo-password``,
0600); a data directory of a version without it gets the user on its next start.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from kontor_local.runtime import Database, free_port, mongo_url
from pymongo import MongoClient
from pymongo.errors import OperationFailure

pytestmark = pytest.mark.integration


def client(url: str) -> MongoClient[dict[str, object]]:
    return MongoClient(url, serverSelectionTimeoutMS=5000)


def test_only_the_runtime_s_password_opens_the_database_also_an_older_data_dir(
    tmp_path: Path,
) -> None:
    port = free_port()
    storage, logs, password = tmp_path / "mongo", tmp_path / "logs", tmp_path / "keys" / "pw"
    older = Database(port, storage, logs)  # a version without a password
    older.start()
    try:
        client(older.url)["shop"]["invoices"].insert_one({"_id": 1, "total": "119.00"})
    finally:
        older.stop()

    database = Database(port, storage, logs, password_file=password)
    database.start()
    assert database.provisioning_s is not None  # the user was created first
    try:
        assert stat.S_IMODE(password.stat().st_mode) == 0o600
        assert "kontor:" in database.url and "authSource=admin" in database.url
        assert client(database.url)["shop"]["invoices"].find_one({"_id": 1}) is not None
        anonymous = client(mongo_url(port))
        with pytest.raises(OperationFailure) as refused:
            anonymous["shop"]["invoices"].find_one({})
        assert refused.value.code == 13  # Unauthorized
        wrong = client(database.url.replace(password.read_text().strip(), "guessed"))
        with pytest.raises(OperationFailure):
            wrong["shop"]["invoices"].find_one({})
    finally:
        database.stop()

    again = Database(port, storage, logs, password_file=password)  # the user is there now
    again.start()
    assert again.provisioning_s is None  # one start
    try:
        assert again.url == database.url
        assert client(again.url)["shop"]["invoices"].count_documents({}) == 1
    finally:
        again.stop()
