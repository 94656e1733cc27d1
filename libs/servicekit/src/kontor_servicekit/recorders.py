"""What a consumer runtime sends and counts, recorded instead (service tests, replays).

A :class:`~kontor_servicekit.consumer.ConsumerRuntime` needs a dead-letter producer and
consumer metrics; the service-test harness and ``kontor_servicekit.replay`` give it these,
so what was parked and how each message ended can be read afterwards.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from kontor_contracts.wire import headers_dict
from pymongo import monitoring

__all__ = ["CommandCounter", "DeadLetterRecorder", "MetricsRecorder", "Parked"]


@dataclass(frozen=True)
class Parked:
    """One message the runtime sent to a dead-letter topic."""

    topic: str
    value: bytes | None
    key: bytes | None
    headers: dict[str, str]


@dataclass
class DeadLetterRecorder:
    """The runtime's dead-letter producer: records instead of sending."""

    parked: list[Parked] = field(default_factory=list)

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        self.parked.append(Parked(topic, value, key, headers_dict(headers or [])))


@dataclass
class MetricsRecorder:
    """The runtime's consumer metrics: ``(group, event_type, outcome)`` per message."""

    outcomes: list[tuple[str, str, str]] = field(default_factory=list)
    dead: list[tuple[str, str]] = field(default_factory=list)
    publish_failures: list[tuple[str, str, str]] = field(default_factory=list)

    def handled(self, group: str, event_type: str, outcome: str) -> None:
        self.outcomes.append((group, event_type, outcome))

    def observe_handling(self, group: str, event_type: str, seconds: float) -> None:
        pass  # timing is not what is recorded

    def dead_lettered(self, group: str, topic: str) -> None:
        self.dead.append((group, topic))

    def dead_letter_publish_failed(self, group: str, topic: str, error_type: str) -> None:
        self.publish_failures.append((group, topic, error_type))


class CommandCounter(monitoring.CommandListener):
    """A client's database commands, counted by ``(command, collection)`` (e.g.
    ``("find", "orders")``, ``("commitTransaction", "1")``): pass it to
    ``create_client(event_listeners=[...])`` to see how many round trips a step took."""

    def __init__(self) -> None:
        self.seen: Counter[tuple[str, str]] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        self.seen[(name, str(event.command.get(name, "")))] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass
