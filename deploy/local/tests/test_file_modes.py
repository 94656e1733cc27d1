"""Issue 9: what the local runtime writes is readable by the user who runs it only.

The data directory holds every document (customers' addresses, invoices), the broker
log with every event, the logs and the JWT signing key. It is created 0700 (an existing
one is made 0700), and the database, the object store and the services run with umask
077, so their files are 0600 and their directories 0700.
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from kontor_local.runtime import LocalSettings, Platform, free_port
from kontor_local.tokens import write_keypair
from pymongo import AsyncMongoClient

pytestmark = pytest.mark.integration


def modes(root: Path) -> dict[str, int]:
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


async def write_something(platform: Platform) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(platform.mongo_url)
    await client["kontor_modes"]["customers"].insert_one({"name": "Erika Mustermann"})
    await client.close()
    producer = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap, acks="all")
    await producer.start()
    await producer.send_and_wait("modes.t", b"an event", key=b"k")
    await producer.stop()


def test_data_dir_0700_and_every_file_below_it_for_its_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "kontor"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)  # as an older version (or a umask of 022) left it
    settings = LocalSettings(
        data_dir=data_dir, broker_port=free_port(), mongo_port=free_port(), s3_port=free_port()
    )
    write_keypair(settings.keys_dir)
    platform = Platform(settings)
    try:
        platform.start_infra(topics=[("modes.t", 1)])
        asyncio.run(write_something(platform))
    finally:
        platform.stop()

    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    found = modes(data_dir)
    for part in ("mongo/", "broker/", "logs/database.log", "logs/broker.log", "keys/"):
        assert any(name.startswith(part) for name in found), f"nothing under {part}: {found}"
    assert any(name.endswith(".batch") for name in found), "no broker object written"
    readable_by_others = {name: oct(mode) for name, mode in found.items() if mode & 0o077}
    assert readable_by_others == {"keys/jwt-public.pem": "0o644"}
