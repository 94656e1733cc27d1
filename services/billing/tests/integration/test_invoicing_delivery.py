"""Billing's delivery guarantees on the real broker and database.

- an order is invoiced on its OrderConfirmed (orders' events carry both, in order, on
  the order's key); the same OrderPlaced delivered twice yields one invoice;
- a billing process killed (SIGKILL) while a transaction of it holds the invoice
  counter is replaced by one that issues invoices again within 10 s, and nothing is
  lost or duplicated: 300 orders in, 300 invoices numbered 1..300;
- a malformed message is dead-lettered with its reason and the next one is handled;
- a 5 MB message (above ``kafka_max_message_bytes``) is parked in ``dead_letters``
  with its reason, although the dead-letter topic refuses it, is counted, and the
  next message is handled.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from kontor_contracts.samples import order_confirmed_envelope, order_placed_envelope
from kontor_servicekit.testing import (
    as_message,
    consume_all,
    eventually,
    produce,
    topic_of,
    wait_for_assignment,
)
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure

pytestmark = pytest.mark.integration


async def test_same_order_placed_twice_yields_one_invoice(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("billing") as billing:
        await wait_for_assignment(billing)
        envelope = order_placed_envelope()
        topic = topic_of(namespace, "OrderPlaced")
        marker = order_placed_envelope()  # handled after both copies: proves they were seen
        await produce(
            infra.kafka_bootstrap,
            topic,
            [
                as_message(envelope),
                as_message(envelope),
                as_message(order_confirmed_envelope(envelope)),
                as_message(marker),
                as_message(order_confirmed_envelope(marker)),
            ],
        )
        invoices = billing.kit.store.db["invoices"]
        await eventually(lambda: invoices.find_one({"order_id": marker.aggregate_id}), timeout=30)
        # one partition key per order: both copies precede the marker only if keys match,
        # so wait for the duplicate's inbox decision explicitly through the metric too,
        # and for the invoice its confirmation (after both copies) issues.
        await eventually(lambda: _metric(billing, 'outcome="duplicate"'), timeout=15)
        await eventually(lambda: invoices.find_one({"order_id": envelope.aggregate_id}))
        assert await invoices.count_documents({"order_id": envelope.aggregate_id}) == 1
        assert await invoices.count_documents({}) == 2


async def _metric(service: Any, needle: str) -> bool:
    text = (await service.client.get("/metrics")).text
    return any(needle in line and not line.endswith(" 0.0") for line in text.splitlines())


async def test_malformed_message_is_dead_lettered_and_next_is_handled(
    start_service: Any, infra: Any, namespace: str
) -> None:
    async with start_service("billing") as billing:
        await wait_for_assignment(billing)
        topic = topic_of(namespace, "OrderPlaced")
        good = order_placed_envelope()
        key = good.aggregate_id.encode()  # same key: same partition, so order is kept
        broken_payload = order_placed_envelope(order_id=good.aggregate_id).model_copy(
            update={"payload": {"order_id": good.aggregate_id, "lines": "not a list"}}
        )
        other = order_placed_envelope()  # placed only: the replay below confirms it
        await produce(
            infra.kafka_bootstrap,
            topic,
            [
                (key, b"{this is not json", []),
                (key, broken_payload.to_bytes(), []),
                as_message(other),
                as_message(good),
                as_message(order_confirmed_envelope(good)),
            ],
        )
        invoices = billing.kit.store.db["invoices"]
        await eventually(lambda: invoices.find_one({"order_id": good.aggregate_id}), timeout=30)

        dlt = f"{namespace}.billing.invoicing.dlt"
        parked = await consume_all(infra.kafka_bootstrap, dlt, expected=2)
        assert [r.value for r in parked] == [b"{this is not json", broken_payload.to_bytes()]
        reasons = [dict(r.headers)["kontor_dlt_reason"].decode() for r in parked]
        assert "ValidationError" in reasons[0]
        assert "lines" in reasons[1]
        assert dict(parked[0].headers)["kontor_dlt_original_topic"].decode() == topic

        listed = await billing.client.get("/admin/dead-letters")
        assert listed.status_code == 200
        assert listed.json()["total"] == 2 and len(listed.json()["items"]) == 2
        assert {d["error_type"] for d in listed.json()["items"]} == {"ValidationError"}
        one = (await billing.client.get("/admin/dead-letters?page_size=1&page=2")).json()
        assert len(one["items"]) == 1 and one["total"] == 2

        # Replaying a message that is still broken parks it again, with the new attempt.
        first = sorted(listed.json()["items"], key=lambda d: d["offset"])[1]
        replayed = await billing.client.post(f"/admin/dead-letters/{first['id']}/replay")
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["outcome"] == "dead_lettered"
        assert replayed.json()["dead_letter"]["status"] == "parked"
        await consume_all(infra.kafka_bootstrap, dlt, expected=3)

        # A parked message that can be handled now (say, after a fix) is handled by
        # replay through the same handler and inbox, and cannot be replayed twice.
        fixed = order_confirmed_envelope(other)
        assert await invoices.count_documents({"order_id": other.aggregate_id}) == 0
        await billing.kit.store.db["dead_letters"].insert_one(
            {
                **{k: v for k, v in (await _parked(billing, first["id"])).items() if k != "_id"},
                "_id": "fixed-1",
                "value": fixed.to_bytes(),
                "key": fixed.aggregate_id.encode(),
            }
        )
        handled = await billing.client.post("/admin/dead-letters/fixed-1/replay")
        assert handled.status_code == 200, handled.text
        assert handled.json()["outcome"] == "handled"
        assert handled.json()["dead_letter"]["status"] == "replayed"
        assert await invoices.count_documents({"order_id": other.aggregate_id}) == 1
        again = await billing.client.post("/admin/dead-letters/fixed-1/replay")
        assert again.status_code == 409
        assert (await billing.client.post("/admin/dead-letters/nope/replay")).status_code == 404

        no_scope = await billing.client.get(
            "/admin/dead-letters", headers={"Authorization": "Bearer nope"}
        )
        assert no_scope.status_code == 401


async def test_oversized_message_is_parked_with_its_reason_counted_and_the_next_is_handled(
    start_service: Any, infra: Any, namespace: str
) -> None:
    topic = topic_of(namespace, "OrderPlaced")
    # A misconfigured producer and topic: both allow 8 MiB (Tansu does not enforce a
    # topic's max.message.bytes anyway; Apache Kafka would refuse 5 MB on a 1 MiB topic).
    infra.create_topics([(topic, 6)], configs={"max.message.bytes": str(8 * 1024 * 1024)})
    async with start_service("billing") as billing:
        assert billing.settings.kafka_max_message_bytes == 1_048_576  # the default
        await wait_for_assignment(billing)
        good = order_placed_envelope()
        huge = order_placed_envelope()
        key = good.aggregate_id.encode()  # same key: same partition, the huge one first
        huge_value = huge.to_bytes() + b" " * 5_000_000  # still a valid OrderPlaced
        await produce(
            infra.kafka_bootstrap,
            topic,
            [
                (key, huge_value, []),
                (key, order_confirmed_envelope(huge).to_bytes(), []),  # handled, no placement
                as_message(good),
                as_message(order_confirmed_envelope(good)),
            ],
            max_request_size=8 * 1024 * 1024,
        )
        invoices = billing.kit.store.db["invoices"]
        await eventually(lambda: invoices.find_one({"order_id": good.aggregate_id}), timeout=30)
        assert await invoices.count_documents({"order_id": huge.aggregate_id}) == 0

        parked = await billing.kit.store.db["dead_letters"].find_one({"topic": topic})
        assert parked is not None
        assert parked["error_type"] == "MessageTooLarge"
        assert "more than kafka_max_message_bytes (1048576 bytes)" in parked["reason"]
        assert parked["value"] == huge_value  # the whole message is kept for inspection
        assert parked["value_bytes"] == len(huge_value)
        assert parked["dead_letter_topic_published"] is False
        assert parked["dead_letter_topic_error"].startswith("MessageSizeTooLargeError")

        listed = (await billing.client.get("/admin/dead-letters")).json()["items"]
        assert [(d["error_type"], d["dead_letter_topic_published"]) for d in listed] == [
            ("MessageTooLarge", False)
        ]
        text = (await billing.client.get("/metrics")).text
        group = f"{namespace}.billing.invoicing"
        assert f'kontor_dead_letters_total{{group="{group}",topic="{topic}"}} 1.0' in text
        assert (
            "kontor_dead_letter_publish_failures_total{"
            f'dead_letter_topic="{group}.dlt",error_type="MessageSizeTooLargeError",'
            f'group="{group}"}} 1.0'
        ) in text


async def _parked(service: Any, dead_letter_id: str) -> dict[str, Any]:
    doc = await service.kit.store.db["dead_letters"].find_one({"_id": dead_letter_id})
    assert doc is not None
    return dict(doc)


def _billing_env(infra: Any, namespace: str, public_key: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        KONTOR_KAFKA_BOOTSTRAP=infra.kafka_bootstrap,
        KONTOR_MONGO_URL=infra.mongo_url,
        KONTOR_KAFKA_IDEMPOTENT=str(infra.idempotent_producer).lower(),
        KONTOR_TOPIC_PREFIX=f"{namespace}.",
        KONTOR_BILLING_MONGO_DATABASE=f"{namespace}_billing",
        KONTOR_BILLING_HTTP_PORT="0",
        KONTOR_AUTH_PUBLIC_KEY=public_key,
        KONTOR_KAFKA_ENSURE_TOPICS="true",
        KONTOR_KAFKA_SESSION_TIMEOUT_MS="2000",
        KONTOR_KAFKA_HEARTBEAT_INTERVAL_MS="500",
        KONTOR_LOG_LEVEL="WARNING",
    )
    return env


async def test_killed_consumer_mid_transaction_loses_nothing_and_is_replaced_within_10_s(
    infra: Any, namespace: str, auth_keys: Any, tmp_path: Path
) -> None:
    """SIGKILL billing in the middle of a transaction that takes the invoice number.

    A failpoint holds billing's next counter increment (``findAndModify``, which only
    ``next_sequence`` sends) for 3 s; billing is killed during that wait, so the
    database then runs the increment in a transaction whose client is gone: the
    counter is held until the database's transaction lifetime ends it (a probe of the
    test's own conflicts on it, and is aborted, so it takes no number). The successor
    must issue its first invoice within 10 s of being started (beyond what a first start
    took in the same test, which under load alone is more than 10 s); afterwards every order
    has exactly one invoice, numbered 1..N without gaps, and every invoice was announced.
    """
    total = 200
    topic = topic_of(namespace, "OrderPlaced")
    infra.create_topics([(topic, 6)])
    envelopes = [order_placed_envelope(number=n) for n in range(1, total + 1)]
    await produce(
        infra.kafka_bootstrap,
        topic,
        [m for e in envelopes for m in (as_message(e), as_message(order_confirmed_envelope(e)))],
    )

    env = _billing_env(infra, namespace, auth_keys.public_pem)
    log = (tmp_path / "billing.log").open("ab")

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "kontor_billing"], env=env, stdout=log, stderr=log
        )

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongo_url)
    db = client[f"{namespace}_billing"]
    invoices = db["invoices"]
    first_started_at = time.monotonic()
    process = start()
    try:
        await eventually(lambda: _count_at_least(invoices, 1), timeout=120, interval=0.01)
        # what starting costs on this machine now (interpreter, imports, group join, rule
        # sets): the successor pays it again, on top of what the dead transaction holds
        start_cost = time.monotonic() - first_started_at
        await eventually(lambda: _count_at_least(invoices, 10), timeout=60, interval=0.01)
        await _hold_next_counter_increment(client, block_s=3.0)
        blocked_at = time.monotonic()
        await asyncio.sleep(0.5)  # billing is waiting for its findAndModify now
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        killed_at = time.monotonic()
        await asyncio.sleep(max(blocked_at + 4.0 - time.monotonic(), 0))  # it has run now
        assert await _sequence_is_held(client, db.name), "the kill left no transaction open"
        left = await invoices.count_documents({})
        assert left < total, "the stream was finished before the kill; make it longer"

        started_at = time.monotonic()
        process = start()
        await eventually(lambda: _count_at_least(invoices, left + 1), timeout=120, interval=0.01)
        handling_again_at = time.monotonic()
        await eventually(lambda: _count_at_least(invoices, total), timeout=120, interval=0.1)
        print(
            f"\nkilled holding the counter after {left} invoices; the successor's first "
            f"invoice came {handling_again_at - started_at:.2f} s after its start "
            f"({handling_again_at - killed_at:.2f} s after the kill; a first start took "
            f"{start_cost:.2f} s)"
        )
        # held at most the database's transaction lifetime (5 s, ADR 0010) beyond what a
        # start costs: 10 s on a quiet machine; a held counter that outlived the lifetime
        # (60 s by default) would fail this under any load
        assert handling_again_at - started_at < max(10.0, start_cost + 10.0)
        await asyncio.sleep(2.0)  # anything duplicated would show up now

        docs = await invoices.find({}).to_list(None)
        assert len(docs) == total
        assert sorted(d["order_id"] for d in docs) == sorted(e.aggregate_id for e in envelopes)
        sequence = sorted(int(d["number"].rsplit("-", 1)[1]) for d in docs)
        assert sequence == list(range(1, total + 1))  # gap-free and unique

        # Every invoice was announced (the outbox survived the kill too).
        published = await consume_all(
            infra.kafka_bootstrap, topic_of(namespace, "InvoiceIssued"), expected=total
        )
        announced = {r.key.decode() for r in published}
        assert announced == {d["_id"] for d in docs}
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        await client.close()


async def _hold_next_counter_increment(
    client: AsyncMongoClient[dict[str, Any]], *, block_s: float
) -> None:
    """Make billing's next ``findAndModify`` wait ``block_s`` before the server runs it."""
    try:
        await client.admin.command(
            {
                "configureFailPoint": "failCommand",
                "mode": {"times": 1},
                "data": {
                    "failCommands": ["findAndModify"],
                    "appName": "kontor-billing",
                    "blockConnection": True,
                    "blockTimeMS": int(block_s * 1000),
                },
            }
        )
    except OperationFailure as exc:
        pytest.skip(f"the database has no failpoints (enableTestCommands): {exc}")


async def _sequence_is_held(client: AsyncMongoClient[dict[str, Any]], db_name: str) -> bool:
    """Whether an open transaction holds the invoice counter: a write to it conflicts.

    The probe's own transaction is always aborted, so it takes no number.
    """
    sequences = client[db_name]["sequences"]
    counter = await sequences.find_one({"_id": {"$regex": "^invoice:"}})
    assert counter is not None
    async with client.start_session() as session:
        await session.start_transaction()
        try:
            await sequences.update_one(
                {"_id": counter["_id"]}, {"$inc": {"value": 1}}, session=session
            )
        except OperationFailure as exc:
            if exc.has_error_label("TransientTransactionError"):
                return True
            raise
        finally:
            await session.abort_transaction()
    return False


async def _count_at_least(collection: Any, n: int) -> bool:
    return bool(await collection.count_documents({}) >= n)
