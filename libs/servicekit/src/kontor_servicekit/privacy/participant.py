"""How a service joins export and erasure: one participant, one subscription (ADR 0035).

A service implements :class:`PrivacyParticipant` over its unit of work:

- ``export(subject, uow)``: its part of the person's data as a JSON-able dict;
- ``erase(subject, uow, now)``: delete or anonymise it, keep what law requires, and say
  what it did (:class:`ErasureSummary`).

``privacy_subscription(service, participant, ...)`` is the consumer group
``<service>.privacy`` on ``orders.privacy_request.v1``: it answers
``DataExportRequested`` with ``CustomerDataExported`` and ``ErasureRequested`` with
``CustomerDataErased``, each in the inbox transaction of the request (the effect, the
answer and the inbox record commit together: a redelivered request is answered once).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.orders import (
    CustomerDataErased,
    CustomerDataExported,
    DataExportRequested,
    ErasedItem,
    ErasureRequested,
    PrivacyRequest,
)

from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.consumer import Subscription
from kontor_servicekit.domain_errors import Invalid
from kontor_servicekit.store import Transaction
from kontor_servicekit.uow import UnitOfWork

__all__ = [
    "MAX_PART_BYTES",
    "ErasureSummary",
    "PrivacyParticipant",
    "Subject",
    "answer_erasure",
    "answer_export",
    "privacy_subscription",
]

U = TypeVar("U", bound=UnitOfWork)
U_contra = TypeVar("U_contra", contravariant=True)

MAX_PART_BYTES = 768 * 1024
"""A part larger than this does not fit an event under the 1 MiB message limit with its
envelope; until parts go to blob storage (``blob_ref``) it is refused (dead-lettered)."""


@dataclass(frozen=True)
class Subject:
    """Whose data: the pseudonymous id, and the e-mail each service finds the data by."""

    subject_id: str
    email: str

    @classmethod
    def of(cls, request: PrivacyRequest) -> Subject:
        return cls(request.subject_id, request.email)


@dataclass
class ErasureSummary:
    """What a service did: per kind of record, deleted, anonymised, or retained and why."""

    deleted: list[ErasedItem] = field(default_factory=list)
    anonymised: list[ErasedItem] = field(default_factory=list)
    retained: list[ErasedItem] = field(default_factory=list)


class PrivacyParticipant(Protocol[U_contra]):
    async def export(self, subject: Subject, uow: U_contra) -> dict[str, Any]: ...

    async def erase(self, subject: Subject, uow: U_contra, now: datetime) -> ErasureSummary: ...


async def answer_export(
    service: str,
    participant: PrivacyParticipant[U],
    request: DataExportRequested,
    uow: U,
    now: datetime,
) -> CustomerDataExported:
    part = await participant.export(Subject.of(request), uow)
    size = len(json.dumps(part, default=str).encode())
    if size > MAX_PART_BYTES:
        raise Invalid(
            f"{service}'s part of export {request.request_id} is {size} bytes, more than "
            f"{MAX_PART_BYTES} fit an event",
            field="part",
        )
    answer = CustomerDataExported(
        request_id=request.request_id,
        service=service,
        subject_id=request.subject_id,
        part=part,
        exported_at=now,
    )
    uow.emit(answer, aggregate_id=request.request_id)
    return answer


async def answer_erasure(
    service: str,
    participant: PrivacyParticipant[U],
    request: ErasureRequested,
    uow: U,
    now: datetime,
) -> CustomerDataErased:
    summary = await participant.erase(Subject.of(request), uow, now)
    answer = CustomerDataErased(
        request_id=request.request_id,
        service=service,
        subject_id=request.subject_id,
        deleted=summary.deleted,
        anonymised=summary.anonymised,
        retained=summary.retained,
        erased_at=now,
    )
    uow.emit(answer, aggregate_id=request.request_id)
    return answer


def privacy_subscription(
    service: str,
    participant: PrivacyParticipant[Any],
    *,
    unit_of_work: Callable[[Transaction], Any] | None,
    clock: Clock = utc_now,
) -> Subscription:
    """The group ``<service>.privacy``: answers export and erasure requests.

    ``unit_of_work`` None: the participant gets the consumer's bare transaction."""

    async def on_export(event: DataExportRequested, uow: Any, envelope: Envelope) -> None:
        await answer_export(service, participant, event, uow, clock())

    async def on_erasure(event: ErasureRequested, uow: Any, envelope: Envelope) -> None:
        await answer_erasure(service, participant, event, uow, clock())

    return Subscription(
        purpose="privacy",
        description=f"Answers privacy requests with {service}'s part of the export, "
        "or erases the person's data and says what it did",
        handlers={DataExportRequested: on_export, ErasureRequested: on_erasure},
        unit_of_work=unit_of_work,
        unseal=True,  # the e-mail each service finds the person's data by (ADR 0036)
    )
