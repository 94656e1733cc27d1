"""Rebuilding a read model from the topics.

``python -m kontor_servicekit.rebuild <service> <purpose>`` resets the projection of
one subscription (its collections and its inbox entries) and moves its consumer
group back to the earliest offsets, so the next start of the service replays every
retained event into a fresh read model.

Run it while the service's consumers are stopped (scaled to 0 in a cluster): the
reset joins the group as an ordinary member, and if another member is still there
the partitions are split, the command refuses and drops nothing.

The embedded broker (Tansu 0.6) cannot readmit members to a group that was emptied
after having two or more members at once (JoinGroup hangs); a refused reset leaves
the group in that state there, so on the embedded runtime stop the service first.
Apache Kafka has no such limitation.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from kontor_servicekit.consumer import Subscription
from kontor_servicekit.settings import ServiceSettings
from kontor_servicekit.store import INBOX, Store, create_client

log = logging.getLogger(__name__)


class NotRebuildable(Exception):
    """The subscription has effects beyond a read model, or does not exist."""


class GroupActive(Exception):
    """The consumer group still has members: stop the service first."""


@dataclass(frozen=True)
class RebuildReport:
    group: str
    dropped_collections: tuple[str, ...]
    inbox_entries_removed: int
    partitions_reset: int


async def reset_group_to_earliest(
    settings: ServiceSettings, group: str, topics: list[str], *, wait_s: float = 10.0
) -> int:
    """Join ``group`` and commit the earliest offset of every partition of ``topics``.

    The reset joins the group as an ordinary member (no broker-specific admin call):
    if it is the only member it is assigned every partition and commits; if another
    member is still running, the partitions are split and the reset is refused.
    """
    consumer = AIOKafkaConsumer(
        *topics,
        **settings.kafka_client_options(),
        group_id=group,
        enable_auto_commit=False,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        rebalance_timeout_ms=settings.kafka_rebalance_timeout_ms,
    )
    await consumer.start()
    try:
        every = {
            TopicPartition(topic, p)
            for topic in topics
            for p in consumer.partitions_for_topic(topic) or ()
        }
        for _ in range(max(1, int(wait_s / 0.1))):
            if consumer.assignment():
                break
            await asyncio.sleep(0.1)
        assigned = consumer.assignment()
        if assigned != every:
            raise GroupActive(
                f"consumer group {group!r} has other members (got {len(assigned)} of "
                f"{len(every)} partitions); stop every instance of the service and retry"
            )
        earliest = await consumer.beginning_offsets(list(every))
        try:
            await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in earliest.items()})
        except KafkaError as exc:
            raise GroupActive(f"consumer group {group!r} refused the offset reset: {exc}") from exc
        return len(every)
    finally:
        await consumer.stop()


async def rebuild_projection(
    settings: ServiceSettings, subscription: Subscription, *, wait_s: float | None = None
) -> RebuildReport:
    """Reset ``subscription``'s read model; waits up to ``wait_s`` for the group to empty.

    The default wait covers a group join (about half the session timeout on the
    embedded broker, up to a few seconds on Apache Kafka).
    """
    if not subscription.projection:
        raise NotRebuildable(
            f"{subscription.purpose!r} has effects beyond a read model and must not be replayed"
        )
    group = settings.group(subscription.group(settings.service_name))
    topics = [settings.topic(t) for t in subscription.topics()]
    # Offsets first: if the group is still active nothing has been dropped yet.
    if wait_s is None:
        wait_s = max(10.0, 2 * settings.kafka_session_timeout_ms / 1000)
    partitions = await reset_group_to_earliest(settings, group, topics, wait_s=wait_s)
    client = create_client(settings.mongo_url, app_name=f"kontor-{settings.service_name}-rebuild")
    try:
        store = Store(client, settings.mongo_database, producer=settings.service_name)
        for name in subscription.projection:
            await store.db.drop_collection(name)
        removed = await store.db[INBOX].delete_many({"_id": {"$regex": f"^{group}:"}})
    finally:
        await client.close()
    return RebuildReport(group, subscription.projection, removed.deleted_count, partitions)


def main(argv: list[str] | None = None) -> int:
    """``python -m kontor_servicekit.rebuild <service> <purpose>``"""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("service")
    parser.add_argument("purpose", help="the subscription, e.g. catalog-projection")
    args = parser.parse_args(argv)
    from kontor_servicekit.settings import settings_for

    settings = settings_for(args.service)
    definition = importlib.import_module(f"kontor_{args.service}.main").definition(settings)
    subscriptions = {s.purpose: s for s in definition.subscriptions}
    if args.purpose not in subscriptions:
        print(f"{args.service} has no subscription {args.purpose!r}: {sorted(subscriptions)}")
        return 2
    try:
        report = asyncio.run(rebuild_projection(settings, subscriptions[args.purpose]))
    except (NotRebuildable, GroupActive) as exc:
        print(f"not rebuilt: {exc}")
        return 1
    print(
        f"group {report.group}: {report.partitions_reset} partitions reset to earliest, "
        f"dropped {', '.join(report.dropped_collections)}, "
        f"{report.inbox_entries_removed} inbox entries removed; start the service to replay"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
