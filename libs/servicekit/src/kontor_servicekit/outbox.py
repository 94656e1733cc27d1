"""The outbox relay: publishes committed outbox rows to Kafka, in order per aggregate.

A crash between commit and publish delays an event, it never loses it; a crash
between publish and marking the row sent publishes it again, which the
consumers' inbox absorbs. Only one relay per service publishes at a time (a
lease in the service's database), so several replicas don't interleave the
events of one aggregate.

Every row has a lifecycle (``status``)::

    pending --claim--> in_flight --ack--> sent
                           |
                           +--error--> failed --due--> in_flight ...
                                          (admin retry) --> pending

- ``pending``: committed, not yet tried.
- ``in_flight``: claimed by the lease holder (``claimed_by``) and handed to the
  producer. A relay that dies here leaves the row ``in_flight``; the next lease
  holder sends it again (at least once).
- ``sent``: acknowledged by the broker (``sent_at``; expires after 7 days).
- ``failed``: the last attempt failed (``last_error``, ``last_attempt_at``).
  ``next_attempt_at`` says when it is tried again, with exponential backoff;
  ``None`` means the relay gave up after ``max_attempts`` and the row waits for
  ``POST /admin/outbox/failures/{id}/retry``. A broker outage (a retriable Kafka
  error or a timeout) is not the row's fault: it never uses up the attempts, the
  relay pauses with the same backoff instead of sweeping the whole outbox.

Every try increments ``attempts``. Order per aggregate: the rows of one Kafka key
(the aggregate id) go out in commit order, and a row of key K that is not sent
(pending, or failed) holds back every later row of K; other keys keep flowing.
To keep that promise even when the producer fails one record and accepts the
next, a pass sends in waves: wave n holds the n-th unsent row of every key, and a
key's next row is only handed to the producer after its previous one was
acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from aiokafka.errors import KafkaError, KafkaTimeoutError
from kontor_contracts.envelope import Envelope
from kontor_contracts.wire import to_headers
from opentelemetry import propagate, trace
from pymongo.errors import DuplicateKeyError, PyMongoError

from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.store import JOURNALED, OUTBOX, Document, Store
from kontor_servicekit.tasks import stop_task

log = logging.getLogger(__name__)

LEASES = "leases"
STOP_TIMEOUT_S: Final = 5.0
"""How long a relay cancelled after its grace may take to go (ADR 0054)."""

PENDING: Final = "pending"
IN_FLIGHT: Final = "in_flight"
SENT: Final = "sent"
FAILED: Final = "failed"
#: Every status of a row that is not published yet.
UNSENT: Final = (PENDING, IN_FLIGHT, FAILED)


class Producer(Protocol):
    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[Any]: ...


def is_outage(exc: BaseException) -> bool:
    """A failure of the broker connection rather than of the row: retried without limit."""
    return isinstance(exc, KafkaError) and (exc.retriable or isinstance(exc, KafkaTimeoutError))


def _due(row: Document, now: datetime) -> bool:
    """A failed row whose backoff has passed (never one the relay gave up on)."""
    next_attempt_at = row.get("next_attempt_at")
    return next_attempt_at is not None and bool(next_attempt_at <= now)


async def _outcome(delivery: asyncio.Future[Any] | BaseException) -> BaseException | None:
    """None when the broker acknowledged the record, else the error."""
    if isinstance(delivery, BaseException):
        return delivery
    try:
        await delivery
    except Exception as exc:
        return exc
    return None


class OutboxRelay:
    """Moves outbox rows to Kafka through their lifecycle (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        producer: Producer | None = None,
        *,
        topic_prefix: str = "",
        batch_size: int = 500,
        poll_interval_s: float = 0.5,
        lease_s: float = 10.0,
        max_attempts: int = 5,
        retry_backoff_s: float = 1.0,
        retry_backoff_max_s: float = 60.0,
        clock: Clock = utc_now,
        tracer_provider: trace.TracerProvider | None = None,
        on_published: Any = None,
    ) -> None:
        self.store = store
        self.producer = producer
        self.topic_prefix = topic_prefix
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self.retry_backoff_max_s = retry_backoff_max_s
        self.clock = clock
        self.tracer = trace.get_tracer("kontor.outbox", tracer_provider=tracer_provider)
        self.owner = uuid.uuid4().hex
        self.published = 0
        self._on_published = on_published
        self._outage_streak = 0
        self._paused_until = 0.0
        self._lease_fresh_until: datetime | None = None
        """Until when the lease needs no renewal: half a lease after the last renewal."""
        self._failed_may_exist = True
        """False once a pass saw no failed row: only the lease holder fails rows, so the
        query for them is skipped until it fails one or takes the lease over. Order does
        not depend on it (a pass also holds back the keys of failed rows it reads with
        the unsent ones, and a key's failed row sorts before its later rows); the query
        only keeps held keys from filling the batch."""
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
        task, self._task = self._task, None
        if task is not None:
            await asyncio.wait({task}, timeout=grace_s)
            if not await stop_task(task, timeout_s=STOP_TIMEOUT_S):
                log.warning("the outbox relay did not stop; its lease runs out")
        self._lease_fresh_until = None
        with contextlib.suppress(PyMongoError):
            await self.store.db[LEASES].delete_one({"_id": "outbox-relay", "owner": self.owner})

    async def backlog(self) -> int:
        """Rows committed but not yet published (pending, in flight or failed)."""
        return await self.store.db[OUTBOX].count_documents({"status": {"$in": list(UNSENT)}})

    async def failed_count(self) -> int:
        """Rows whose last attempt failed (retrying or given up)."""
        return await self.store.db[OUTBOX].count_documents({"status": FAILED})

    async def retry(self, row_id: str) -> bool:
        """Make a failed row pending again with a fresh budget of attempts.

        Returns False when no row ``row_id`` is ``failed``. ``last_error`` is kept
        until the next attempt; ``manual_retries`` counts these calls.
        """
        result = await self.store.db[OUTBOX].update_one(
            {"_id": row_id, "status": FAILED},
            {
                "$set": {"status": PENDING, "attempts": 0, "retried_at": self.clock()},
                "$unset": {"next_attempt_at": ""},
                "$inc": {"manual_retries": 1},
            },
        )
        if result.modified_count:
            self._paused_until = 0.0
            self.wake()
        return bool(result.modified_count)

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
        """Renew, take or create the lease. Within the first half of a lease it holds,
        the relay does not write it again: nobody else may take it before it expires,
        and a pass per commit renewed it once per published event (measured in
        ``make bench``: 1.2 lease writes per event in each service)."""
        now = self.clock()
        if self._lease_fresh_until is not None and now < self._lease_fresh_until:
            return True
        self._lease_fresh_until = None
        leases = self.store.db[LEASES]
        until = now + timedelta(seconds=self.lease_s)
        renewed = await leases.update_one(
            {"_id": "outbox-relay", "owner": self.owner}, {"$set": {"until": until}}
        )
        if not renewed.matched_count and not await self._take_lease(now, until):
            return False
        self._lease_fresh_until = now + timedelta(seconds=self.lease_s / 2)
        return True

    async def _take_lease(self, now: datetime, until: datetime) -> bool:
        leases = self.store.db[LEASES]
        taken = await leases.update_one(
            {"_id": "outbox-relay", "until": {"$lt": now}},
            {"$set": {"owner": self.owner, "until": until}},
        )
        if not taken.matched_count:
            try:
                await leases.insert_one(
                    {"_id": "outbox-relay", "owner": self.owner, "until": until}
                )
            except DuplicateKeyError:
                return False
        self._failed_may_exist = True  # the previous holder may have left failed rows
        return True

    async def publish_pending(self) -> int:
        """One pass: publish up to a batch of due rows in order per key; returns how many."""
        if time.monotonic() < self._paused_until:
            return 0
        now = self.clock()
        held: set[str] = set()
        queues: dict[str, deque[Document]] = {}
        for row in await self._due_rows(now):
            key = str(row["key"])
            if key in held:
                continue
            if row["status"] == FAILED and not _due(row, now):
                # failed after the first query of this pass saw the failed rows
                held.add(key)
                queues.pop(key, None)
                continue
            queues.setdefault(key, deque()).append(row)
        sent = 0
        while queues:
            wave = sorted((queue.popleft() for queue in queues.values()), key=lambda r: r["seq"])
            failures = await self._publish_wave(wave)
            sent += len(wave) - len(failures)
            for key in failures:
                del queues[key]  # the key's later rows wait behind the failed one
            queues = {key: queue for key, queue in queues.items() if queue}
            if any(is_outage(exc) for exc in failures.values()):
                self._pause_after_outage()
                break
            self._outage_streak = 0
        return sent

    async def _due_rows(self, now: datetime) -> list[Document]:
        """The oldest unsent rows, without the keys held back by a failed row not yet due."""
        outbox = self.store.db[OUTBOX]
        failed: list[Document] = []
        if self._failed_may_exist:
            failed = await outbox.find(
                {"status": FAILED}, {"key": 1, "next_attempt_at": 1}
            ).to_list(None)
            self._failed_may_exist = bool(failed)
        held = sorted({str(row["key"]) for row in failed if not _due(row, now)})
        query: dict[str, Any] = {"status": {"$in": list(UNSENT)}}
        if held:
            query["key"] = {"$nin": held}
        return await outbox.find(query).sort("seq", 1).to_list(self.batch_size)

    async def _publish_wave(self, wave: list[Document]) -> dict[str, BaseException]:
        """Claim, send and settle rows of distinct keys; returns the failures by key."""
        producer = self.producer
        if producer is None:
            raise RuntimeError("the outbox relay has no producer yet")
        await self._claim(wave)
        handed = [(row, await self._hand_over(producer, row)) for row in wave]
        sent_ids: list[str] = []
        failures: dict[str, BaseException] = {}
        for row, delivery in handed:
            error = await _outcome(delivery)
            if error is None:
                sent_ids.append(row["_id"])
            else:
                failures[str(row["key"])] = error
                await self._mark_failed(row, error)
        await self._mark_sent(sent_ids)
        return failures

    async def _claim(self, wave: list[Document]) -> None:
        await self.store.db[OUTBOX].update_many(
            {"_id": {"$in": [row["_id"] for row in wave]}},
            {
                "$set": {
                    "status": IN_FLIGHT,
                    "claimed_by": self.owner,
                    "last_attempt_at": self.clock(),
                },
                "$inc": {"attempts": 1},
            },
        )

    async def _hand_over(
        self, producer: Producer, row: Document
    ) -> asyncio.Future[Any] | BaseException:
        """The producer's future for ``row``, or why the producer refused it at once."""
        try:
            return await self._send(producer, row)
        except Exception as exc:
            return exc

    async def _mark_sent(self, sent_ids: list[str]) -> None:
        if not sent_ids:
            return
        await (
            self.store.db[OUTBOX]
            .with_options(write_concern=JOURNALED)
            .update_many(
                {"_id": {"$in": sent_ids}},
                {
                    "$set": {"status": SENT, "sent_at": self.clock()},
                    "$unset": {"claimed_by": "", "next_attempt_at": ""},
                },
            )
        )
        self.published += len(sent_ids)
        if self._on_published is not None:
            self._on_published(len(sent_ids))

    def _backoff(self, attempt: int) -> float:
        return float(min(self.retry_backoff_s * 2 ** max(attempt - 1, 0), self.retry_backoff_max_s))

    async def _mark_failed(self, row: Document, exc: BaseException) -> None:
        attempts = int(row.get("attempts") or 0) + 1
        outage = is_outage(exc)
        gave_up = not outage and attempts >= self.max_attempts
        next_attempt_at = (
            None if gave_up else self.clock() + timedelta(seconds=self._backoff(attempts))
        )
        error = f"{type(exc).__name__}: {exc}"[:4000]
        self._failed_may_exist = True
        await self.store.db[OUTBOX].update_one(
            {"_id": row["_id"]},
            {
                "$set": {"status": FAILED, "last_error": error, "next_attempt_at": next_attempt_at},
                "$unset": {"claimed_by": ""},
            },
        )
        extra = {"event_id": row["_id"], "attempts": attempts, "outbox_key": str(row["key"])}
        if gave_up:
            log.error("outbox row failed %d times, kept failed: %s", attempts, error, extra=extra)
        else:
            log.warning("publishing outbox row failed, will retry: %s", error, extra=extra)

    def _pause_after_outage(self) -> None:
        self._outage_streak += 1
        self._paused_until = time.monotonic() + self._backoff(self._outage_streak)

    async def _send(self, producer: Producer, row: Document) -> asyncio.Future[Any]:
        envelope = Envelope.model_validate_json(row["value"])
        topic = f"{self.topic_prefix}{row['topic']}"
        parent = propagate.extract(row.get("trace") or {})
        with self.tracer.start_as_current_span(
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
            return await producer.send(
                topic,
                value=row["value"].encode(),
                key=str(row["key"]).encode(),
                headers=headers,
            )
