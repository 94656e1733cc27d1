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

A part larger than the kit's ``privacy_export_inline_max_bytes`` (736 KiB) does not
travel in the event: it is stored as JSON in the shared privacy database's bucket
``export_parts`` (:class:`ExportParts`, the kit's :class:`~kontor_servicekit.blobs.BlobStore`)
and the answer carries ``blob_ref``, ``blob_size`` and ``blob_sha256`` instead; orders
reads and checks it when it assembles the document, and deletes it with the request
(ADR 0142).
"""

from __future__ import annotations

import hashlib
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
from pydantic_core import to_json

from kontor_servicekit.blobs import BlobWriter
from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.consumer import Subscription
from kontor_servicekit.domain_errors import Invalid
from kontor_servicekit.settings import DEFAULT_EXPORT_INLINE_MAX_BYTES
from kontor_servicekit.store import Transaction
from kontor_servicekit.uow import UnitOfWork

__all__ = [
    "EXPORT_PARTS_BUCKET",
    "MAX_PART_BYTES",
    "PART_CONTENT_TYPE",
    "ErasureSummary",
    "ExportParts",
    "PrivacyParticipant",
    "Subject",
    "answer_erasure",
    "answer_export",
    "privacy_subscription",
]

U = TypeVar("U", bound=UnitOfWork)
U_contra = TypeVar("U_contra", contravariant=True)

MAX_PART_BYTES = DEFAULT_EXPORT_INLINE_MAX_BYTES
"""The default of ``privacy_export_inline_max_bytes``: a part larger than this, sealed
(a third more) with its envelope, does not fit the 1 MiB message; it goes to blob
storage. 768 KiB until ADR 0142: a part just under that did not fit once sealed."""

EXPORT_PARTS_BUCKET = "export_parts"
"""The GridFS bucket of the shared privacy database that holds parts too large for an
event (ADR 0142)."""

PART_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class ExportParts:
    """Where a participant stores a part above ``inline_max_bytes`` (the kit builds it
    from the settings, on the shared privacy database; every transaction carries it)."""

    blobs: BlobWriter
    inline_max_bytes: int = MAX_PART_BYTES


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


def encode_part(part: dict[str, Any]) -> bytes:
    """A part as the JSON bytes that are measured, stored and digested (as pydantic
    writes it into the event: dates ISO 8601, decimals as strings)."""
    return to_json(part, fallback=str)


async def answer_export(
    service: str,
    participant: PrivacyParticipant[U],
    request: DataExportRequested,
    uow: U,
    now: datetime,
    *,
    parts: ExportParts | None = None,
) -> CustomerDataExported:
    """Export the person's data and emit the answer: the part inline, or, above
    ``parts.inline_max_bytes``, stored in ``parts.blobs`` and named by the answer.

    The blob is stored before the inbox transaction commits and is not part of it: a
    transaction that fails (or runs again) leaves one no answer names, which orders'
    sweeper deletes (ADR 0142). Without ``parts`` a part above :data:`MAX_PART_BYTES`
    is refused (dead-lettered)."""
    part = await participant.export(Subject.of(request), uow)
    data = encode_part(part)
    limit = MAX_PART_BYTES if parts is None else parts.inline_max_bytes
    if len(data) <= limit:
        answer = CustomerDataExported(
            request_id=request.request_id,
            service=service,
            subject_id=request.subject_id,
            part=part,
            exported_at=now,
        )
    elif parts is None:
        raise Invalid(
            f"{service}'s part of export {request.request_id} is {len(data)} bytes, more "
            f"than {MAX_PART_BYTES} fit an event, and no blob storage is set up for it",
            field="part",
        )
    else:
        digest = hashlib.sha256(data).hexdigest()
        blob_ref = await parts.blobs.put(
            data,
            filename=f"{request.request_id}.{service}.json",
            content_type=PART_CONTENT_TYPE,
            metadata={
                "request_id": request.request_id,
                "service": service,
                "subject_id": request.subject_id,
                "sha256": digest,
            },
        )
        answer = CustomerDataExported(
            request_id=request.request_id,
            service=service,
            subject_id=request.subject_id,
            blob_ref=blob_ref,
            blob_size=len(data),
            blob_sha256=digest,
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

    ``unit_of_work`` None: the participant gets the consumer's bare transaction. The
    handlers take the bare transaction and build the unit of work themselves: the
    transaction carries the kit's :class:`ExportParts` (``Transaction.export_parts``)."""

    def bind(tx: Transaction) -> Any:
        return tx if unit_of_work is None else unit_of_work(tx)

    async def on_export(event: DataExportRequested, tx: Transaction, envelope: Envelope) -> None:
        parts = tx.export_parts
        await answer_export(service, participant, event, bind(tx), clock(), parts=parts)

    async def on_erasure(event: ErasureRequested, tx: Transaction, envelope: Envelope) -> None:
        await answer_erasure(service, participant, event, bind(tx), clock())

    return Subscription(
        purpose="privacy",
        description=f"Answers privacy requests with {service}'s part of the export, "
        "or erases the person's data and says what it did",
        handlers={DataExportRequested: on_export, ErasureRequested: on_erasure},
        unit_of_work=None,  # bound in the handlers (above)
        unseal=True,  # the e-mail each service finds the person's data by (ADR 0036)
    )
