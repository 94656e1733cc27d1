"""The envelope every Kontor event travels in, and the base class of every payload.

An :class:`Envelope` is the Kafka message *value* (compact JSON). Its payload is a
plain dict on purpose: a consumer that only routes or parks a message (outbox
relay, inbox, dead-letter handling) never needs the payload model, and a consumer
that does calls :meth:`Envelope.payload_model` to get the typed, registered model.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = ["ContractModel", "Envelope", "Event", "UnknownEventType"]


class UnknownEventType(KeyError, ValueError):
    """No model is registered for an event ``(type, version)`` (or an event class).

    A ``KeyError`` (it is a failed lookup) and a ``ValueError`` (for a consumer it
    is a bad message that belongs on the dead-letter topic).
    """

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "unknown event type"


class ContractModel(BaseModel):
    """Base of every model in the contracts: immutable, and tolerant of additive fields.

    ``extra="ignore"``: a consumer built against an older minor state of a contract
    must accept payloads that carry fields it does not know yet.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")


class Event(ContractModel):
    """Base of every event payload. Subclasses set ``event_type`` (their class name)."""

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1
    sealed_per: ClassVar[Literal["person", "aggregate"]] = "person"
    """Whose key seals the event's personal fields (ADR 0036): the person's (found by the
    payload's ``subject_id`` or e-mail), or the aggregate's own (a privacy request: its
    e-mail must stay readable to the services after the person's key is destroyed)."""


class Envelope(BaseModel):
    """Metadata plus payload of one event, as published to Kafka."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: UUID = Field(description="Unique id of this event; consumers deduplicate on it")
    type: str = Field(min_length=1, description="Event type, e.g. 'OrderPlaced'")
    version: int = Field(ge=1, description="Version of the event's payload schema")
    occurred_at: AwareDatetime = Field(description="When the fact happened (timezone-aware)")
    producer: str = Field(min_length=1, description="The owning service, e.g. 'orders'")
    aggregate_id: str = Field(min_length=1, description="Id of the aggregate; the Kafka key")
    correlation_id: str = Field(
        min_length=1, description="Id shared by every event of one business flow"
    )
    causation_id: str | None = Field(
        default=None, description="Id of the event (or command) that caused this one"
    )
    payload: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        producer: str,
        aggregate_id: str,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        occurred_at: datetime | None = None,
        event_id: UUID | None = None,
    ) -> Envelope:
        """Put ``event`` into a new envelope.

        A flow's first event starts a correlation (its own id); every later event
        passes the ``correlation_id`` of the event it reacts to and that event's id
        as ``causation_id``.
        """
        new_id = event_id if event_id is not None else uuid4()
        return cls(
            id=new_id,
            type=event.event_type,
            version=event.event_version,
            occurred_at=occurred_at if occurred_at is not None else datetime.now(UTC),
            producer=producer,
            aggregate_id=aggregate_id,
            correlation_id=correlation_id if correlation_id is not None else str(new_id),
            causation_id=causation_id,
            payload=event.model_dump(mode="json"),
        )

    def to_bytes(self) -> bytes:
        """Compact JSON, UTF-8: the Kafka message value."""
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        """Parse a Kafka message value; raises ``pydantic.ValidationError`` on any junk."""
        return cls.model_validate_json(data)

    def payload_model(self) -> Event:
        """The payload parsed with the model registered for ``(type, version)``.

        Raises :class:`UnknownEventType` if nothing is registered for it and
        ``pydantic.ValidationError`` if the payload does not fit the model.
        """
        from .registry import REGISTRY  # the registry imports the events

        spec = REGISTRY.spec_for(self.type, self.version)
        return spec.model.model_validate(self.payload)
