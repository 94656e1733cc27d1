"""Replaying subscriptions from the beginning of their topics into a scratch database.

``python -m kontor_servicekit.replay <service> <purpose>... --into <database>`` reads
every retained event of the subscriptions' topics from offset 0 and runs the service's
own handlers on them (the same parse, unseal, inbox and transaction path as the live
consumers) against ``<database>`` instead of the service's: what a rebuild from the
topics would hold, for every subscription, including those with effects (billing's
invoicing) that must never be replayed into the live store (ADR 0146).

Nothing outside the scratch database changes: no consumer group joins or commits (the
consumer is assigned its partitions), nothing is published (the outbox rows stay in the
scratch database, dead letters are parked there, not sent), nothing is sealed (sealing
may create a person's key; reading the key store only opens what its keys still open).
So it runs beside the live service. The scratch database is dropped at the end unless
``--keep`` is given (to compare it with the live read model); ``into`` must differ from
the service's own database.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from kontor_servicekit.consumer import ConsumerRuntime, MessageHandler, Subscription
from kontor_servicekit.privacy.setup import privacy_kit
from kontor_servicekit.recorders import DeadLetterRecorder, MetricsRecorder
from kontor_servicekit.service import ServiceDefinition, prepare_store
from kontor_servicekit.settings import ServiceSettings
from kontor_servicekit.store import Store, create_client

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
"""Times a record left for redelivery (a write conflict, a handler not ready) is tried
again before the replay counts it as not replayed and goes on."""


@dataclass
class ReplayReport:
    database: str
    records: dict[str, int] = field(default_factory=dict)
    """Per purpose: records read from the topics."""
    not_replayed: dict[str, int] = field(default_factory=dict)
    """Per purpose: records still left for redelivery after ``MAX_ATTEMPTS``."""
    dead_lettered: dict[str, int] = field(default_factory=dict)
    """Per purpose: records the handlers refused (parked in the scratch database)."""
    collections: dict[str, int] = field(default_factory=dict)
    """Documents per collection of the scratch database after the replay."""
    documents: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """With ``collect``: every document of the scratch database, by collection."""


async def read_from_beginning(
    settings: ServiceSettings, topics: Sequence[str], *, timeout_s: float = 300.0
) -> list[Any]:
    """Every record of ``topics`` (physical names) up to their end offsets now, in
    partition order (no group: the partitions are assigned, nothing is committed)."""
    consumer = AIOKafkaConsumer(**settings.kafka_client_options(), enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # fetches the cluster's metadata
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        records: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while waiting := [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"topics not read to their end within {timeout_s} s: {waiting}")
            for tp, batch in (await consumer.getmany(*waiting, timeout_ms=500)).items():
                records.extend(r for r in batch if r.offset < end[tp])
        return records
    finally:
        await consumer.stop()


async def replay_into(
    definition: ServiceDefinition,
    purposes: Sequence[str],
    into: str,
    *,
    keep: bool = False,
    collect: bool = False,
) -> ReplayReport:
    """Replay the subscriptions ``purposes`` of ``definition``, one after the other, into
    the database ``into`` (see the module docstring); ``collect`` returns its documents."""
    settings = definition.settings
    if into == settings.mongo_database:
        raise ValueError(f"{into!r} is the service's own database: replay into another one")
    by_purpose = {s.purpose: s for s in definition.subscriptions}
    unknown = [p for p in purposes if p not in by_purpose]
    if unknown:
        raise ValueError(f"{definition.name} has no subscription {unknown}: {sorted(by_purpose)}")
    client = create_client(settings.mongo_url, app_name=f"kontor-{definition.name}-replay")
    report = ReplayReport(into)
    try:
        store = Store(client, into, producer=definition.name)
        await client.drop_database(into)
        await prepare_store(definition, store)
        privacy = privacy_kit(settings, store)
        store.subject_ids = privacy.pseudonyms.subject_id if privacy.pseudonyms else None
        runtime = ConsumerRuntime(
            service=definition.name,
            store=store,
            producer=DeadLetterRecorder(),  # parked in the scratch database, not sent
            metrics=(metrics := MetricsRecorder()),
            topic_prefix=settings.topic_prefix,
            max_attempts=settings.consumer_max_attempts,
            retry_backoff_s=settings.consumer_retry_backoff_s,
            max_message_bytes=settings.kafka_max_message_bytes,
            redeliver_pause_s=0.1,
            unsealer=privacy.sealer,
            batch_max_events=settings.consumer_batch_max_events,
            batch_time_budget_s=settings.consumer_batch_time_budget_s,
        )
        for purpose in purposes:
            subscription = by_purpose[purpose]
            records = await read_from_beginning(settings, topics_of(settings, subscription))
            report.records[purpose] = len(records)
            handler = MessageHandler(runtime, subscription)
            report.not_replayed[purpose] = await _handle_all(handler, records)
            report.dead_lettered[purpose] = sum(g == handler.group for g, _ in metrics.dead)
        for name in sorted(await store.db.list_collection_names()):
            report.collections[name] = await store.db[name].count_documents({})
            if collect:
                report.documents[name] = await store.db[name].find().to_list(None)
    finally:
        if not keep:
            await client.drop_database(into)
        await client.close()
    return report


def topics_of(settings: ServiceSettings, subscription: Subscription) -> list[str]:
    return [settings.topic(t) for t in subscription.topics()]


async def _handle_all(handler: MessageHandler, records: list[Any]) -> int:
    """Handle ``records`` in order; answers how many were left unhandled (a record left
    for redelivery ``MAX_ATTEMPTS`` times is skipped)."""
    skipped = 0
    attempts = 0
    while records:
        finished = await handler.handle_records(records)
        if finished == len(records):
            break
        attempts += 1
        if attempts >= MAX_ATTEMPTS:
            skipped_record = records[finished]
            log.warning(
                "replay: %s:%s:%s left for redelivery %d times, skipped",
                skipped_record.topic,
                skipped_record.partition,
                skipped_record.offset,
                attempts,
            )
            skipped += 1
            finished += 1
            attempts = 0
        records = records[finished:]
        await asyncio.sleep(handler.runtime.redeliver_pause_s)
    return skipped


def main(argv: list[str] | None = None) -> int:
    """``python -m kontor_servicekit.replay <service> <purpose>... --into <database>``"""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("service")
    parser.add_argument("purposes", nargs="+", help="subscriptions, replayed in this order")
    parser.add_argument("--into", required=True, help="the scratch database (dropped first)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    from kontor_servicekit.settings import settings_for

    settings = settings_for(args.service)
    definition = importlib.import_module(f"kontor_{args.service}.main").definition(settings)
    try:
        report = asyncio.run(replay_into(definition, args.purposes, args.into, keep=args.keep))
    except ValueError as exc:
        print(f"not replayed: {exc}")
        return 2
    for purpose in args.purposes:
        print(
            f"{purpose}: {report.records[purpose]} records read, "
            f"{report.dead_lettered[purpose]} dead-lettered, "
            f"{report.not_replayed[purpose]} not replayed"
        )
    for name, count in report.collections.items():
        print(f"  {args.into}.{name}: {count} documents")
    return 1 if any(report.not_replayed.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
