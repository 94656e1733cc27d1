"""Consumers: contract event -> handler, at least once, with inbox and dead letters.

A subscription is one consumer group for one purpose (``billing.invoicing``).
For each message:

1. a message larger than ``kafka_max_message_bytes`` is dead-lettered unhandled, and
   the body must be a valid envelope of a registered event, else it is dead-lettered
   at once (retrying cannot fix a malformed message);
2. the handler runs in one transaction together with the inbox record of the
   event id: a redelivered event raises :class:`AlreadyHandled` and has no effect;
3. a handler that raises :class:`PermanentError` or a domain error
   (:mod:`kontor_servicekit.domain_errors`) is dead-lettered at once, one that raises
   ``Unavailable`` gets the message again later; any other failing handler is retried
   ``max_attempts`` times with backoff, then the message is parked on the group's
   dead-letter topic and in the ``dead_letters`` collection with the error, and the
   partition moves on;
4. a database or broker outage is not the message's fault: the offset is not
   committed, the message is fetched again, and nothing is dead-lettered;
5. the offset is committed (manual ack) only after the transaction committed, or
   after the message was parked in the ``dead_letters`` collection.

**Batches (ADR 0110).** A fetch holds what the partitions have, up to
``batch_max_events`` records; consecutive handleable events share one transaction
(one inbox write, one outbox write, one commit) until the time budget is spent. A
handler failing in a shared transaction sends the events before it through again
together and itself alone, through the steps above; an event left for redelivery
stops the fetch there (what was finished is committed). Each event is handled in a
consumer span of its own trace.

**Starting.** The consumer groups of a service join at the same time, in the
background (:meth:`ConsumerRuntime.start_in_background`): aiokafka's ``start()``
waits for the group join (about half the session timeout on Tansu, the initial
rebalance delay on Apache Kafka), and FastStream starts subscribers one after the
other, so a service with four groups used to wait four joins before it answered
HTTP. Readiness does not wait for the joins (events wait in their topics meanwhile);
``/health/ready`` reports ``consumers: joining`` until every group has its first
assignment, and a start that failed makes liveness and readiness fail.

Parking never loses a message: it is stored in ``dead_letters`` (the record the admin
API lists and replays) whether or not the dead-letter topic took it. A topic that
refuses it for good (too large, an invalid record) is noted on the record
(``dead_letter_topic_published: false`` and the error) and counted in
``kontor_dead_letter_publish_failures_total``; a broker outage parks it in the
database and leaves the offset uncommitted, so the topic copy is made once the broker
is back. If even the database write fails, the offset is not committed either and
the message is fetched again: nothing is skipped without a trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from kontor_contracts.envelope import Envelope, Event, UnknownEventType
from kontor_contracts.registry import REGISTRY, dead_letter_topic
from opentelemetry import propagate, trace
from opentelemetry.trace import TracerProvider
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure, PyMongoError

from kontor_servicekit.domain_errors import DomainError, Unavailable
from kontor_servicekit.kafka import consumer_size_options, record_size
from kontor_servicekit.logging import log_context
from kontor_servicekit.outbox import is_outage
from kontor_servicekit.settings import DEFAULT_KAFKA_MAX_MESSAGE_BYTES
from kontor_servicekit.store import (
    DEAD_LETTERS as DEAD_LETTERS,
)
from kontor_servicekit.store import (
    AlreadyHandled,
    Store,
    Transaction,
    TransactionAborted,
    is_transient,
)

log = logging.getLogger(__name__)


STORED_VALUE_LIMIT = 8 * 1024 * 1024
"""At most this much of a parked message's value is stored (a MongoDB document holds
16 MiB); a longer one is cut and marked ``value_truncated``."""

Handler = Callable[[Any, Any, Envelope], Awaitable[None]]
"""``handler(event, unit_of_work, envelope)``: the unit of work is the subscription's
(``Subscription.unit_of_work``), or the bare :class:`Transaction` without one."""

Prefetch = Callable[[Sequence[tuple[Any, Envelope]], Any], Awaitable[None]]
"""``prefetch([(event, envelope), ...], unit_of_work)`` (see ``Subscription.prefetch``)."""


class PermanentError(Exception):
    """Raised by a handler for input it can never handle: dead-lettered without retries."""


class MessageTooLarge(PermanentError):
    """A consumed message above ``kafka_max_message_bytes``: never handled.

    Whatever it would cause could not be published under the same limit; the
    producer that wrote it is misconfigured.
    """

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"the message is {size} bytes, more than kafka_max_message_bytes ({limit} bytes)"
        )
        self.size = size
        self.limit = limit


@dataclass(frozen=True)
class Subscription:
    """One consumer group of a service and the events it handles.

    ``purpose`` names the group: service ``billing`` and purpose ``invoicing``
    consume as group ``billing.invoicing``. Topics are derived from the event
    types, so what a service consumes is declared once, in code.
    """

    purpose: str
    handlers: Mapping[type[Event], Handler]
    description: str = ""
    auto_offset_reset: Literal["earliest", "latest"] = "earliest"
    projection: tuple[str, ...] = ()
    """Collections this subscription alone writes and can rebuild from the topics.

    Empty for subscriptions with effects beyond a read model (billing's invoicing
    issues numbered invoices): those must never be replayed from the beginning.
    """

    unit_of_work: Callable[[Transaction], Any] | None = None
    """Builds the service's unit of work on the handler's transaction (see ``uow``)."""

    unseal: bool = False
    """The handlers need the real personal values (ADR 0036): a sealed payload is opened
    with the person's key before it is parsed, and shows the placeholders once the key
    is destroyed. Off: the handlers see placeholders and pseudonymous ids only."""

    prefetch: Prefetch | None = None
    """Reads ahead, for the events of a shared transaction (ADR 0150), what their
    handlers will read, one query per collection instead of one per event, and keeps it
    with :meth:`Transaction.remember`; the handlers find it there. Called in the
    transaction before the first handler, with every event that may join it. Only an
    optimisation: it must not write, and what a handler does must not depend on
    whether it ran (one that fails is logged and the handlers read for themselves)."""

    def group(self, service: str) -> str:
        return f"{service}.{self.purpose}"

    def bind(self, tx: Transaction) -> Any:
        """What a handler gets as its second argument inside ``tx``."""
        return tx if self.unit_of_work is None else self.unit_of_work(tx)

    def topics(self) -> list[str]:
        return sorted({REGISTRY.topic_of(model) for model in self.handlers})


class ConsumerMetrics(Protocol):
    def handled(self, group: str, event_type: str, outcome: str) -> None: ...
    def observe_handling(self, group: str, event_type: str, seconds: float) -> None: ...
    def dead_lettered(self, group: str, topic: str) -> None: ...
    def dead_letter_publish_failed(self, group: str, topic: str, error_type: str) -> None: ...


class Unsealer(Protocol):
    """Opens a sealed envelope (``kontor_servicekit.privacy.sealing.EnvelopeSealer``)."""

    async def unseal(self, envelope: Envelope) -> Envelope: ...


class SealedWithoutKeys(PermanentError):
    """A sealed event for a subscription that needs its values, in a service without the
    privacy master key: parked until the key is configured, then replayed."""


class DeadLetterProducer(Protocol):
    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Any: ...


@dataclass
class ConsumerRuntime:
    """What the generic message handler needs at run time."""

    service: str
    store: Store
    producer: DeadLetterProducer
    metrics: ConsumerMetrics
    topic_prefix: str = ""
    max_attempts: int = 5
    retry_backoff_s: float = 0.2
    max_message_bytes: int = DEFAULT_KAFKA_MAX_MESSAGE_BYTES
    redeliver_pause_s: float = 1.0
    """Pause after a message is left for redelivery (outage, write conflict)."""
    unsealer: Unsealer | None = None
    """Opens sealed events for subscriptions with ``unseal`` (None: no master key)."""
    batch_max_events: int = 50
    """At most this many events of one fetch are handled in one transaction (1: one
    transaction per event)."""
    batch_time_budget_s: float = 1.0
    """No further event joins a transaction that has run this long (it must commit well
    inside the database's transaction lifetime, 5 s as Kontor runs it)."""
    tracer_provider: TracerProvider | None = None
    """Each event of a batch is handled in a consumer span continuing its own trace."""
    subscribers: list[Any] = field(default_factory=list)
    handlers: dict[str, MessageHandler] = field(default_factory=dict)
    starting: asyncio.Task[None] | None = None

    def start_in_background(self, broker: KafkaBroker) -> None:
        """Start every subscriber of ``broker`` at once, without waiting for the joins."""
        task = asyncio.create_task(start_subscribers(broker), name=f"{self.service}-consumers")
        task.add_done_callback(_log_start_failure)
        self.starting = task

    async def wait_started(self, timeout: float | None = None) -> None:
        """Until every group has joined (and raise what made the start fail)."""
        if self.starting is not None:
            await asyncio.wait_for(asyncio.shield(self.starting), timeout)

    def status(self) -> str:
        """``ok`` (all joined, or nothing to consume), ``joining``, or ``failed: ...``."""
        task = self.starting
        if not self.subscribers:
            return "ok"
        if task is None:
            return "not started"
        if not task.done():
            return "joining"
        if task.cancelled():
            return "stopped"
        error = task.exception()
        return "ok" if error is None else f"failed: {type(error).__name__}: {error}"

    async def stop_starting(self) -> None:
        """Cancel a start still waiting for its joins (the broker stop follows)."""
        task, self.starting = self.starting, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


async def start_subscribers(broker: KafkaBroker) -> None:
    """What ``broker.start()`` does, with the subscribers started concurrently."""
    await broker.connect()
    results = await asyncio.gather(
        *(subscriber.start() for subscriber in broker.subscribers), return_exceptions=True
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result
    for publisher in broker.publishers:
        await publisher.start()
    broker.running = True


def _log_start_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the consumers could not start: %r", task.exception())


@dataclass(frozen=True)
class ParkedRecord:
    """A dead letter read back from the database, shaped like a consumer record."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


class MessageHandler:
    """Handles the messages of one subscription (see the module docstring)."""

    def __init__(self, runtime: ConsumerRuntime, subscription: Subscription) -> None:
        self.runtime = runtime
        self.subscription = subscription
        self.group = runtime.topic_prefix + subscription.group(runtime.service)
        self.by_type = {REGISTRY.spec_of(m).type: (m, h) for m, h in subscription.handlers.items()}
        self._tracer = trace.get_tracer("kontor.consumer", tracer_provider=runtime.tracer_provider)

    async def __call__(self, message: KafkaMessage) -> None:
        """One fetch of the consumer (a batch subscriber's records, or a single record)."""
        records = _records_of(message.raw_message)
        try:
            finished = await self.handle_records(records)
        except Exception:
            # Not handled and not parked (e.g. the database is gone while parking):
            # acknowledging would skip the message without a trace, so fetch it again.
            log.exception(
                "messages from %s:%s:%s on neither handled nor parked; will redeliver",
                records[0].topic,
                records[0].partition,
                records[0].offset,
            )
            self.runtime.metrics.handled(self.group, "unknown", "retry_later")
            finished = 0
        if finished == len(records):
            await message.ack()
            return
        if finished == 0:
            await message.nack()  # every partition back to its first record of the fetch
        else:  # commit what was finished, fetch the rest again
            _rewind(message, records[finished:])
            await message.ack()
        await asyncio.sleep(self.runtime.redeliver_pause_s)

    async def handle_records(self, records: Sequence[Any]) -> int:
        """Handle ``records`` in order, consecutive handleable events in shared
        transactions; returns how many were finished before one is left for
        redelivery (``len(records)`` when all were).

        An event type the group ignores does not end a run (it has no effect to keep in
        order); a record with another outcome of its own does: the run before it is
        handled first.
        """
        run: list[_Prepared] = []
        for index, record in enumerate(records):
            item = await self._prepare(record, record.value, index=index)
            if isinstance(item, _Verdict) and item.ignored:
                await item.act()
                continue
            if isinstance(item, _Prepared):
                run.append(item)
                if len(run) < self.runtime.batch_max_events:
                    continue
            done = await self._handle_run(run)
            if done < len(run):
                return run[done].index
            run = []
            if isinstance(item, _Verdict) and await item.act() == "retry_later":
                return index
        done = await self._handle_run(run)
        return run[done].index if done < len(run) else len(records)

    async def _prepare(
        self, record: Any, value: bytes | None, *, index: int = 0
    ) -> _Prepared | _Verdict:
        """Check, parse and (if the subscription needs it) unseal the ``index``-th record
        of a fetch."""
        size = record_size(record.key, value, record.headers)
        if size > self.runtime.max_message_bytes:
            limit = self.runtime.max_message_bytes
            return _Verdict(
                lambda: self.dead_letter(record, MessageTooLarge(size, limit), attempts=1)
            )
        try:
            envelope = Envelope.from_bytes(value or b"")
            if self.subscription.unseal and envelope.type in self.by_type:
                envelope = await self._unsealed(envelope)
            event = envelope.payload_model()
        except (ValidationError, UnknownEventType, ValueError, SealedWithoutKeys) as exc:
            # ValueError includes SealBroken: a ciphertext its key does not open
            error = exc
            return _Verdict(lambda: self.dead_letter(record, error, attempts=1))
        except PyMongoError as exc:  # the key store is out of reach: not the message's fault
            log.warning("key store unavailable, will redeliver: %s", exc)
            return _Verdict(self._outcome("unknown", "retry_later"))
        entry = self.by_type.get(envelope.type)
        if entry is None:
            return _Verdict(self._outcome(envelope.type, "ignored"), ignored=True)
        return _Prepared(record, envelope, event, entry[1], index)

    def _outcome(self, event_type: str, outcome: str) -> Callable[[], Awaitable[str]]:
        async def counted() -> str:
            self.runtime.metrics.handled(self.group, event_type, outcome)
            return outcome

        return counted

    async def handle_record(self, value: bytes | None, record: Any) -> str:
        """Handle one record in a transaction of its own; returns the outcome
        (``handled``, ``duplicate``, ``dead_lettered``, ``ignored``, ``retry_later``)."""
        item = await self._prepare(record, value)
        if isinstance(item, _Prepared):
            return await self._handle_one(item)
        return await item.act()

    async def _handle_one(self, item: _Prepared) -> str:
        with self._event_scope(item):
            return await self._handle(item.handler, item.event, item.envelope, item.record)

    @contextlib.contextmanager
    def _event_scope(self, item: _Prepared) -> Iterator[None]:
        """The event's log context, and a consumer span continuing the event's own trace
        (FastStream's span is the fetch's, which may hold events of many traces)."""
        envelope = item.envelope
        with (
            log_context(
                event_id=str(envelope.id),
                event_type=envelope.type,
                correlation_id=envelope.correlation_id,
                consumer_group=self.group,
            ),
            self._tracer.start_as_current_span(
                f"{item.record.topic} process",
                kind=trace.SpanKind.CONSUMER,
                context=propagate.extract(_headers(item.record)),
                attributes={
                    "messaging.system": "kafka",
                    "messaging.operation": "process",
                    "messaging.destination.name": str(item.record.topic),
                    "messaging.consumer.group.name": self.group,
                },
            ),
        ):
            yield

    async def _handle_run(self, run: Sequence[_Prepared]) -> int:
        """Handle consecutive events, several per transaction; returns how many of them
        were finished before one was left for redelivery.

        A handler that fails inside a shared transaction aborts it: the events before
        it are handled again together, the failing one alone (so retries, dead-letters
        and their reasons stay per message), and those after it go on together.
        """
        position = 0
        while position < len(run):
            rest = run[position:]
            if len(rest) == 1 or self.runtime.batch_max_events <= 1:
                if await self._handle_one(rest[0]) == "retry_later":
                    return position
                position += 1
                continue
            try:
                position += await self._handle_together(rest)
            except _ItemFailed as failed:
                done = await self._handle_run(rest[: failed.index]) if failed.index else 0
                if done < failed.index or await self._handle_one(rest[done]) == "retry_later":
                    return position + done
                position += done + 1
            except AlreadyHandled:  # redelivered meanwhile (a rebalance): one by one
                return position + await self._handle_each(rest)
            except (ConnectionFailure, KafkaError, TransactionAborted) as exc:
                log.warning("infrastructure unavailable or contended, will redeliver: %s", exc)
                self.runtime.metrics.handled(self.group, rest[0].envelope.type, "retry_later")
                return position
            except PyMongoError as exc:
                log.warning("database error, will redeliver: %s", exc)
                return position
        return position

    async def _handle_each(self, items: Sequence[_Prepared]) -> int:
        for done, item in enumerate(items):
            if await self._handle_one(item) == "retry_later":
                return done
        return len(items)

    async def _handle_together(self, items: Sequence[_Prepared]) -> int:
        """Handle a prefix of ``items`` in one transaction (at least one event; no more
        once the time budget is spent); returns its length."""
        store = self.runtime.store
        keys = [f"{self.group}:{item.envelope.id}" for item in items]
        seen = await store.handled_already(keys)
        for item, key in zip(items, keys, strict=True):
            if key in seen:
                log.info("duplicate event skipped", extra={"event_id": str(item.envelope.id)})
                self.runtime.metrics.handled(self.group, item.envelope.type, "duplicate")
        todo = [
            (pos, item, key)
            for pos, (item, key) in enumerate(zip(items, keys, strict=True))
            if key not in seen
        ]
        if not todo:
            return len(items)

        async def work(tx: Transaction) -> int:
            began = time.perf_counter()
            await self._prefetch(tx, [item for _, item, _ in todo])
            count = 0
            for index, (pos, item, _) in enumerate(todo):
                if index and time.perf_counter() - began > self.runtime.batch_time_budget_s:
                    break
                envelope = item.envelope
                tx.correlation_id = envelope.correlation_id
                tx.causation_id = str(envelope.id)
                with self._event_scope(item):
                    try:
                        await item.handler(item.event, self.subscription.bind(tx), envelope)
                    except PyMongoError as exc:
                        if _is_data_error(exc) and not is_transient(exc):
                            raise _ItemFailed(pos) from exc
                        raise  # a conflict re-runs the transaction, an outage redelivers
                    except KafkaError:
                        raise
                    except Exception as exc:
                        raise _ItemFailed(pos) from exc
                count += 1
            await store.record_inbox_many(tx, [key for _, _, key in todo[:count]])
            return count

        started = time.perf_counter()
        count = await store.transaction(work)
        # the duplicates skipped before the first event not taken are finished too
        finished = todo[count - 1][0] + 1
        per_event = (time.perf_counter() - started) / count
        for _, item, _ in todo[:count]:
            self.runtime.metrics.observe_handling(self.group, item.envelope.type, per_event)
            self.runtime.metrics.handled(self.group, item.envelope.type, "handled")
        log.info("events handled together", extra={"events": count, "consumer_group": self.group})
        return finished

    async def _prefetch(self, tx: Transaction, items: Sequence[_Prepared]) -> None:
        prefetch = self.subscription.prefetch
        if prefetch is None or len(items) < 2:
            return  # one event reads what it needs itself, as often
        try:
            await prefetch(
                [(item.event, item.envelope) for item in items], self.subscription.bind(tx)
            )
        except (PyMongoError, KafkaError):
            raise  # a conflict re-runs the transaction, an outage redelivers
        except Exception:
            log.exception("prefetch failed; the handlers read for themselves")

    async def _unsealed(self, envelope: Envelope) -> Envelope:
        if "sealed" not in envelope.payload:
            return envelope
        if self.runtime.unsealer is None:
            raise SealedWithoutKeys(
                f"{envelope.type} is sealed and {self.group} needs its values, but this "
                "service has no privacy master key (KONTOR_PRIVACY_KEK_FILE)"
            )
        return await self.runtime.unsealer.unseal(envelope)

    async def _handle(self, handler: Handler, event: Event, envelope: Envelope, record: Any) -> str:
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                await self.runtime.store.transaction(
                    lambda tx: handler(event, self.subscription.bind(tx), envelope),
                    correlation_id=envelope.correlation_id,
                    causation_id=str(envelope.id),
                    inbox_key=f"{self.group}:{envelope.id}",
                )
            except AlreadyHandled:
                log.info("duplicate event skipped")
                self.runtime.metrics.handled(self.group, envelope.type, "duplicate")
                return "duplicate"
            except (ConnectionFailure, KafkaError, TransactionAborted) as exc:
                log.warning("infrastructure unavailable or contended, will redeliver: %s", exc)
                self.runtime.metrics.handled(self.group, envelope.type, "retry_later")
                return "retry_later"
            except Unavailable as exc:
                log.warning("handler says it is not ready, will redeliver: %s", exc)
                self.runtime.metrics.handled(self.group, envelope.type, "retry_later")
                return "retry_later"
            except (PermanentError, DomainError) as exc:
                # A refused command stays refused: retrying cannot change the answer.
                return await self.dead_letter(record, exc, attempts=attempt)
            except Exception as exc:
                if isinstance(exc, PyMongoError) and not _is_data_error(exc):
                    log.warning("database error, will redeliver: %s", exc)
                    return "retry_later"
                if attempt >= self.runtime.max_attempts:
                    log.exception("handler failed %d times; dead-lettering", attempt)
                    return await self.dead_letter(record, exc, attempts=attempt)
                log.warning("handler failed (attempt %d): %s", attempt, exc)
                await asyncio.sleep(self.runtime.retry_backoff_s * 2 ** (attempt - 1))
                continue
            log.info("event handled")
            self.runtime.metrics.observe_handling(
                self.group, envelope.type, time.perf_counter() - started
            )
            self.runtime.metrics.handled(self.group, envelope.type, "handled")
            return "handled"

    async def dead_letter(self, record: Any, exc: BaseException, *, attempts: int) -> str:
        """Park ``record`` in the database and on the group's dead-letter topic.

        Returns ``dead_lettered``, or ``retry_later`` when the topic could not be
        reached (a broker outage): the database holds the message already, the offset
        stays uncommitted and the topic copy is made on redelivery. A database error
        propagates: the caller must not acknowledge the message.
        """
        reason = f"{type(exc).__name__}: {exc}"[:4000]
        dlt = self.runtime.topic_prefix + dead_letter_topic(
            self.subscription.group(self.runtime.service)
        )
        original_topic = str(record.topic)
        headers = [
            *(record.headers or []),
            ("kontor_dlt_reason", reason.encode()),
            ("kontor_dlt_error_type", type(exc).__name__.encode()),
            ("kontor_dlt_original_topic", original_topic.encode()),
            ("kontor_dlt_original_partition", str(record.partition).encode()),
            ("kontor_dlt_original_offset", str(record.offset).encode()),
            ("kontor_dlt_group", self.group.encode()),
            ("kontor_dlt_attempts", str(attempts).encode()),
        ]
        publish_error: BaseException | None = None
        try:
            await self.runtime.producer.send_and_wait(
                dlt, value=record.value, key=record.key, headers=headers
            )
        except Exception as error:  # whatever the topic says, the database copy follows
            publish_error = error
            self.runtime.metrics.dead_letter_publish_failed(self.group, dlt, type(error).__name__)
            log.error(
                "dead-letter topic %s refused the message (%s: %s); parking it in %s",
                dlt,
                type(error).__name__,
                error,
                DEAD_LETTERS,
            )
        value = record.value
        doc_id = f"{original_topic}:{record.partition}:{record.offset}"
        await self.runtime.store.db[DEAD_LETTERS].update_one(
            {"_id": doc_id},
            {
                "$set": {
                    "group": self.group,
                    "topic": original_topic,
                    "partition": record.partition,
                    "offset": record.offset,
                    "key": record.key,
                    "value": None if value is None else value[:STORED_VALUE_LIMIT],
                    "value_bytes": 0 if value is None else len(value),
                    "value_truncated": value is not None and len(value) > STORED_VALUE_LIMIT,
                    "headers": [[k, v] for k, v in (record.headers or [])],
                    "reason": reason,
                    "error_type": type(exc).__name__,
                    "traceback": "".join(traceback.format_exception(exc))[-8000:],
                    "attempts": attempts,
                    "dead_letter_topic": dlt,
                    "dead_letter_topic_published": publish_error is None,
                    "dead_letter_topic_error": None
                    if publish_error is None
                    else f"{type(publish_error).__name__}: {publish_error}"[:2000],
                    "status": "parked",
                    "dead_lettered_at": datetime.now(UTC),
                }
            },
            upsert=True,
        )
        if publish_error is not None and is_outage(publish_error):
            log.warning("broker unavailable while dead-lettering; will redeliver: %s", reason)
            return "retry_later"
        self.runtime.metrics.dead_lettered(self.group, original_topic)
        log.error("message dead-lettered: %s", reason, extra={"dead_letter_topic": dlt})
        return "dead_lettered"


@dataclass(frozen=True)
class _Prepared:
    """A record ready for its handler."""

    record: Any
    envelope: Envelope
    event: Event
    handler: Handler
    index: int = 0
    """Its place in the fetch."""


@dataclass(frozen=True)
class _Verdict:
    """A record with an outcome of its own (dead-lettered unhandled, ignored, ...)."""

    act: Callable[[], Awaitable[str]]
    ignored: bool = False


class _ItemFailed(Exception):
    """The handler of ``items[index]`` failed inside a shared transaction."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


def _records_of(raw: Any) -> tuple[Any, ...]:
    """The consumer records of a fetch (a tuple; FastStream's test broker gives a list)."""
    return tuple(raw) if isinstance(raw, (tuple, list)) else (raw,)


def _headers(record: Any) -> dict[str, str]:
    return {
        key: value.decode(errors="replace") if isinstance(value, bytes) else str(value)
        for key, value in (record.headers or [])
    }


def _rewind(message: KafkaMessage, unfinished: Sequence[Any]) -> None:
    """Seek every partition of ``unfinished`` back to its earliest record there."""
    earliest: dict[TopicPartition, int] = {}
    for record in unfinished:
        partition = TopicPartition(record.topic, record.partition)
        earliest[partition] = min(record.offset, earliest.get(partition, record.offset))
    consumer = getattr(message, "consumer", None)
    if consumer is None:
        return
    for partition, offset in earliest.items():
        consumer.seek(partition, offset)


def _is_data_error(exc: PyMongoError) -> bool:
    """Errors caused by what the handler wrote (bad document), not by an outage."""
    from pymongo.errors import OperationFailure

    return isinstance(exc, OperationFailure)


def register_subscriptions(
    broker: KafkaBroker,
    runtime: ConsumerRuntime,
    subscriptions: list[Subscription],
    *,
    session_timeout_ms: int,
    heartbeat_interval_ms: int,
    rebalance_timeout_ms: int = 30_000,
    batch_timeout_ms: int = 50,
) -> list[MessageHandler]:
    """Wire each subscription as a FastStream batch subscriber with manual acknowledgement.

    Each fetch hands over what the partitions hold, up to ``runtime.batch_max_events``
    records (one when the group keeps up, more when it is behind); an empty fetch waits
    ``batch_timeout_ms`` for records, then as long again. The consumers fetch messages
    up to ``runtime.max_message_bytes`` per partition.
    """
    handlers: list[MessageHandler] = []
    sizes = consumer_size_options(runtime.max_message_bytes)
    for subscription in subscriptions:
        handler = MessageHandler(runtime, subscription)
        topics = [runtime.topic_prefix + t for t in subscription.topics()]
        subscriber = broker.subscriber(
            *topics,
            group_id=handler.group,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset=subscription.auto_offset_reset,
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=heartbeat_interval_ms,
            rebalance_timeout_ms=rebalance_timeout_ms,
            batch=True,
            max_records=max(1, runtime.batch_max_events),
            batch_timeout_ms=batch_timeout_ms,
            max_poll_records=100,
            max_partition_fetch_bytes=sizes["max_partition_fetch_bytes"],
            fetch_max_bytes=sizes["fetch_max_bytes"],
            title=handler.group,
            description=subscription.description,
        )
        subscriber(handler.__call__)
        runtime.subscribers.append(subscriber)
        runtime.handlers[handler.group] = handler
        handlers.append(handler)
    return handlers
