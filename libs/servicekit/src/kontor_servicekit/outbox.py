"""The outbox relay: publishes committed outbox rows to Kafka, in order.

A crash between commit and publish delays an event, it never loses it; a crash
between publish and marking the row sent publishes it again, which the
consumers' inbox absorbs. Only one relay per service publishes at a time (a
lease in the service's database), so several replicas don't interleave the
events of one aggregate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from kontor_contracts.envelope import Envelope
from kontor_contracts.wire import to_headers
from opentelemetry import propagate, trace
from pymongo.errors import DuplicateKeyError, PyMongoError

from kontor_servicekit.store import JOURNALED, OUTBOX, Store

log = logging.getLogger(__name__)
tracer = trace.get_tracer("kontor.outbox")

LEASES = "leases"


class Producer(Protocol):
    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[Any]: ...


class OutboxRelay:
    """Moves pending outbox rows to Kafka and marks them sent."""

    def __init__(
        self,
        store: Store,
        producer: Producer,
        *,
        topic_prefix: str = "",
        batch_size: int = 500,
        poll_interval_s: float = 0.5,
        lease_s: float = 10.0,
        on_published: Any = None,
    ) -> None:
        self.store = store
        self.producer = producer
        self.topic_prefix = topic_prefix
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.lease_s = lease_s
        self.owner = uuid.uuid4().hex
        self.published = 0
        self._on_published = on_published
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        store.on_commit(self.wake)

    def wake(self) -> None:
        """Publish now instead of at the next poll (called after a commit)."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self, grace_s: float = 10.0) -> None:
        """Drain what is pending (up to ``grace_s``), then release the lease."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=grace_s)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        with contextlib.suppress(PyMongoError):
            await self.store.db[LEASES].delete_one({"_id": "outbox-relay", "owner": self.owner})

    async def backlog(self) -> int:
        """Rows committed but not yet published."""
        return await self.store.db[OUTBOX].count_documents({"status": "pending"})

    async def _run(self) -> None:
        while True:
            published = 0
            try:
                if await self._hold_lease():
                    published = await self.publish_pending()
            except Exception:
                log.exception("outbox relay pass failed; retrying")
                await asyncio.sleep(1.0)
            if self._stopping and published == 0:
                return
            if published >= self.batch_size:
                continue
            if not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval_s)
                self._wake.clear()

    async def _hold_lease(self) -> bool:
        leases = self.store.db[LEASES]
        now = datetime.now(UTC)
        until = now + timedelta(seconds=self.lease_s)
        renewed = await leases.update_one(
            {"_id": "outbox-relay", "owner": self.owner}, {"$set": {"until": until}}
        )
        if renewed.matched_count:
            return True
        taken = await leases.update_one(
            {"_id": "outbox-relay", "until": {"$lt": now}},
            {"$set": {"owner": self.owner, "until": until}},
        )
        if taken.matched_count:
            return True
        try:
            await leases.insert_one({"_id": "outbox-relay", "owner": self.owner, "until": until})
        except DuplicateKeyError:
            return False
        return True

    async def publish_pending(self) -> int:
        """Publish one batch of pending rows in commit order; returns how many."""
        outbox = self.store.db[OUTBOX]
        rows = await outbox.find({"status": "pending"}).sort("seq", 1).to_list(self.batch_size)
        if not rows:
            return 0
        sends: list[tuple[str, asyncio.Future[Any]]] = []
        for row in rows:
            sends.append((row["_id"], await self._send(row)))
        sent: list[str] = []
        failed = 0
        for row_id, future in sends:
            try:
                await future
                sent.append(row_id)
            except Exception:
                failed += 1
                log.exception("publishing outbox row failed", extra={"event_id": row_id})
        if sent:
            await outbox.with_options(write_concern=JOURNALED).update_many(
                {"_id": {"$in": sent}},
                {"$set": {"status": "sent", "sent_at": datetime.now(UTC)}},
            )
            self.published += len(sent)
            if self._on_published is not None:
                self._on_published(len(sent))
        if failed:
            await asyncio.sleep(0.5)
        return len(sent)

    async def _send(self, row: dict[str, Any]) -> asyncio.Future[Any]:
        envelope = Envelope.model_validate_json(row["value"])
        topic = f"{self.topic_prefix}{row['topic']}"
        parent = propagate.extract(row.get("trace") or {})
        with tracer.start_as_current_span(
            f"{topic} publish",
            context=parent,
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": topic,
                "messaging.message.id": row["_id"],
                "messaging.kafka.message.key": row["key"],
            },
        ):
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            headers = to_headers(envelope) + [(k, v.encode()) for k, v in carrier.items()]
            return await self.producer.send(
                topic,
                value=row["value"].encode(),
                key=str(row["key"]).encode(),
                headers=headers,
            )
