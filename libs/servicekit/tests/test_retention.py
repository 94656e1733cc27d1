"""The kit's collections keep rows as long as the settings say (issue 13, retention).

On the session's MongoDB-protocol server: the TTL indexes of the outbox, the inbox and
the dead letters carry the configured periods, and a changed setting changes the index
in place at the next start instead of failing it on the old one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from kontor_servicekit.service import kit_retention
from kontor_servicekit.settings import settings_for
from kontor_servicekit.store import DEAD_LETTERS, INBOX, OUTBOX, KitRetention, Store, create_client

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(infra: Any, namespace: str) -> AsyncIterator[Store]:
    client = create_client(infra.mongo_url, app_name="kontor-servicekit-tests")
    store = Store(client, f"{namespace}_kit", producer="orders")
    try:
        yield store
    finally:
        await client.drop_database(store.db.name)
        await client.close()


async def ttl_of(store: Store, collection: str, name: str) -> int:
    info = await store.db[collection].index_information()
    return int(info[name]["expireAfterSeconds"])


async def test_the_ttls_come_from_the_settings_and_follow_a_change(store: Store) -> None:
    settings = settings_for("support", dead_letter_keep_days=3, inbox_keep_days=0.5)
    await store.ensure_indexes(kit_retention(settings))
    assert await ttl_of(store, DEAD_LETTERS, "dead_letter_ttl") == 3 * 86400
    assert await ttl_of(store, INBOX, "handled_ttl") == 43200
    assert await ttl_of(store, OUTBOX, "sent_ttl") == 7 * 86400  # the default
    await store.ensure_indexes(KitRetention(dead_letters_s=60))  # the setting changed
    assert await ttl_of(store, DEAD_LETTERS, "dead_letter_ttl") == 60
    assert await ttl_of(store, INBOX, "handled_ttl") == 30 * 86400
