"""Privacy requests: orders coordinates them and is a participant (issue 13, ADR 0035).

Coordinator: :func:`request_privacy` opens a request and emits ``DataExportRequested``
or ``ErasureRequested`` on ``orders.privacy_request.v1``; :func:`on_data_exported` and
:func:`on_data_erased` record each service's answer, and the request is complete when
every expected service (``KONTOR_ORDERS_PRIVACY_EXPECTED_SERVICES``) has answered.
An erasure destroys the person's data key in the shared key store as soon as the
request is committed: from then on every sealed copy of their data on any topic is
unreadable (ADR 0034); no service needs the key to erase its own records.

Parts too large for an event (ADR 0142): the answer names a blob in the shared privacy
bucket (the kit's ``PrivacyKit.part_blobs``); :func:`gathered_export` reads and checks
each when the document is assembled, an erasure of the person deletes the parts of
their earlier exports, and :func:`sweep_export_parts` deletes every part whose request
has expired, was forgotten, or names another blob.

Participant: :class:`OrdersPrivacy` exports the person's orders, returns, complaints and
carts, and erases them (see ``domain/privacy.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from kontor_contracts.envelope import Envelope, Event
from kontor_contracts.events.orders import (
    CustomerDataErased,
    CustomerDataExported,
    DataExportRequested,
    ErasedItem,
    ErasureRequested,
)
from kontor_contracts.personal import PLACEHOLDER_DOMAIN
from kontor_contracts.registry import REGISTRY
from kontor_servicekit.blobs import Blob, StoredBlob
from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import Conflict, NotFound, Unavailable
from kontor_servicekit.privacy.participant import ErasureSummary, Subject
from kontor_servicekit.privacy.sealing import aggregate_subject_id
from kontor_servicekit.privacy.setup import PrivacyKit
from kontor_servicekit.uow import Transactor

from kontor_orders.application.unit_of_work import PrivacyUnitOfWork
from kontor_orders.domain.privacy import (
    PrivacyRequest,
    StoredPart,
    check_part,
    erase_cart,
    erase_complaint,
    erase_order,
    erase_return,
    export_part,
)

#: How long billing's tax records (which refer to the order numbers and amounts kept
#: here) must be kept: §147 AO, ten years from the end of the calendar year.
TAX_RETENTION_YEARS = 10


def pseudonymous_email(subject: Subject) -> str:
    """The e-mail an erased person's records carry: the same as a sealed event's."""
    return f"p-{subject.subject_id.removeprefix('subj_')}@{PLACEHOLDER_DOMAIN}"


class PartBlobs(Protocol):
    """The shared bucket of export parts (the kit's ``BlobStore``)."""

    async def get(self, blob_id: str) -> Blob | None: ...

    async def delete(self, blob_id: str) -> None: ...

    async def listing(self, *, after: str | None = None, limit: int = 500) -> list[StoredBlob]: ...


@dataclass
class PrivacyDesk:
    """What the privacy routes need (``main.py`` builds it into the context)."""

    transactor: Transactor[PrivacyUnitOfWork]
    kit: PrivacyKit
    expected: tuple[str, ...]
    keep_for: timedelta
    answer_within: timedelta | None = None
    """A service silent for longer counts as not answering (``timed_out``)."""

    @property
    def parts(self) -> PartBlobs | None:
        """Where the parts too large for an event are (None without a master key)."""
        return self.kit.part_blobs


def _desk(desk: PrivacyDesk | None) -> PrivacyDesk:
    if desk is None:
        raise Unavailable("privacy requests are not set up in this service")
    return desk


def set_up_desk(desk: PrivacyDesk | None) -> PrivacyDesk:
    """The desk, or 503 when this service has no privacy requests set up."""
    return _desk(desk)


async def request_privacy(
    desk: PrivacyDesk | None,
    *,
    kind: str,
    email: str,
    clock: Clock,
    transactor: Transactor[PrivacyUnitOfWork] | None = None,
    request_id: str | None = None,
) -> PrivacyRequest:
    """Open an export or erasure request for the person with ``email``.

    ``transactor``: the desk's, wrapped (the route's answer is rendered in the block).
    ``request_id``: given by a confirmed link (one request per link: Conflict if it is
    open already)."""
    desk = _desk(desk)
    keys, pseudonyms = desk.kit.require()
    now = clock()
    given_id = request_id
    request_id = request_id or f"prq_{uuid.uuid4().hex}"
    subject_id = pseudonyms.subject_id(email)

    async def work(uow: PrivacyUnitOfWork) -> PrivacyRequest:
        if given_id is not None and await uow.privacy_requests.get(given_id) is not None:
            raise Conflict("this link has been confirmed already")
        request = PrivacyRequest.open(
            request_id=request_id,
            kind=kind,
            subject_id=subject_id,
            email=email,
            expected=desk.expected,
            now=now,
            keep_until=now + desk.keep_for,
            answer_within=desk.answer_within,
        )
        if kind == "erasure":  # earlier exports of the person keep their data no longer
            for earlier in await uow.privacy_requests.of_subject(subject_id):
                if earlier.forget_personal_data():
                    await uow.privacy_requests.save(earlier)
        await uow.privacy_requests.add(request)
        request.pull_events()
        model = DataExportRequested if kind == "export" else ErasureRequested
        event: Event = model(
            request_id=request_id,
            subject_id=subject_id,
            email=email,
            requested_at=now,
            expected=list(request.expected),
        )
        uow.emit(event, aggregate_id=request_id)
        return request

    stored: list[StoredPart] = []

    async def work_and_note_parts(uow: PrivacyUnitOfWork) -> PrivacyRequest:
        stored.clear()  # the block may run again
        if kind == "erasure":
            for earlier in await uow.privacy_requests.of_subject(subject_id):
                stored.extend(earlier.stored_parts())
        return await work(uow)

    request = await (transactor or desk.transactor).run(work_and_note_parts)
    if request.kind == "erasure":
        # after the commit: the request is on its way; the key goes now (ADR 0034)
        await keys.destroy(subject_id)
        # and the parts of earlier exports kept as blobs (the sweeper, if this fails)
        await _delete_parts(desk, [part.blob_ref for part in stored])
    return request


async def _delete_parts(desk: PrivacyDesk, blob_refs: Sequence[str]) -> None:
    parts = desk.parts
    if parts is None:
        return
    for blob_ref in blob_refs:
        await parts.delete(blob_ref)


REQUESTS_TOPIC = REGISTRY.topic_of(DataExportRequested)
#: How long a request stays on its topic: its own key is destroyed at the latest then.
REQUESTS_RETENTION = timedelta(milliseconds=REGISTRY.topic(REQUESTS_TOPIC).retention_ms)


async def settle_privacy_requests(desk: PrivacyDesk | None, clock: Clock) -> int:
    """One round of the privacy sweeper: requests past ``answer_by`` time out (showing
    who did not answer), and the own key of every request that is complete (or has left
    its topic) is destroyed, so the e-mail sealed in it is unreadable from then on
    (ADR 0036). Returns how many keys went."""
    if desk is None or desk.kit.store is None or desk.kit.pseudonyms is None:
        return 0
    keys, pseudonyms = desk.kit.require()
    now = clock()

    async def settle(uow: PrivacyUnitOfWork) -> list[str]:
        due = []
        for request in await uow.privacy_requests.unsettled():
            if request.time_out(now):
                request.pull_events()
                await uow.privacy_requests.save(request)
            if request.key_due(now, REQUESTS_RETENTION):
                due.append(request.id)
        return due

    due = await desk.transactor.run(settle)
    for request_id in due:
        await keys.destroy(aggregate_subject_id(pseudonyms, REQUESTS_TOPIC, request_id))

        async def mark(uow: PrivacyUnitOfWork, request_id: str = request_id) -> None:
            request = await uow.privacy_requests.get(request_id)
            if request is not None:  # destroyed first: a crash here destroys it again
                request.key_destroyed(now)
                await uow.privacy_requests.save(request)

        await desk.transactor.run(mark)
    return len(due)


async def sweep_export_parts(desk: PrivacyDesk | None, clock: Clock) -> int:
    """One round of the export-parts sweeper: every stored part whose request has
    expired (its retention, ``KONTOR_ORDERS_PRIVACY_KEEP_DAYS``) or is gone, whose
    person was erased since, or that its service's answer does not name (a transaction
    that failed after the blob was written) is deleted. Returns how many went."""
    if desk is None or desk.parts is None:
        return 0
    parts = desk.parts
    now = clock()
    deleted = 0
    after: str | None = None
    while page := await parts.listing(after=after):
        after = page[-1].id
        request_ids = sorted({str(b.metadata.get("request_id")) for b in page})

        async def load(
            uow: PrivacyUnitOfWork, request_ids: list[str] = request_ids
        ) -> dict[str, PrivacyRequest]:
            found = [await uow.privacy_requests.get(rid) for rid in request_ids]
            return {r.id: r for r in found if r is not None}

        requests = await desk.transactor.run(load)
        for blob in page:
            request = requests.get(str(blob.metadata.get("request_id")))
            service = str(blob.metadata.get("service"))
            if request is None or not request.keeps_blob(service, blob.id, now):
                await parts.delete(blob.id)
                deleted += 1
    return deleted


@dataclass(frozen=True)
class GatheredExport:
    """A request with its stored parts read and checked: what the routes show."""

    request: PrivacyRequest
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        return self.request.document(self.stored, self.problems)


async def gathered_export(desk: PrivacyDesk | None, request_id: str) -> GatheredExport:
    """The request; for an export each part kept as a blob read and checked against the
    size and SHA-256 its answer gave (a missing or changed one is a problem shown, and
    the document is not complete)."""
    request = await privacy_request(desk, request_id)
    parts = _desk(desk).parts
    stored: dict[str, dict[str, Any]] = {}
    problems: dict[str, str] = {}
    for ref in request.stored_parts():
        blob = None if parts is None else await parts.get(ref.blob_ref)
        part, problem = check_part(ref, None if blob is None else blob.data)
        if part is not None:
            stored[ref.service] = part
        if problem is not None:
            problems[ref.service] = problem
    return GatheredExport(request, stored, problems)


async def _record(
    uow: PrivacyUnitOfWork, request_id: str, service: str, answer: dict[str, Any], at: datetime
) -> None:
    request = await uow.privacy_requests.get(request_id)
    if request is None:  # another coordinator's request (a shared topic in tests)
        return
    request.record_answer(service, answer, at)
    request.pull_events()
    await uow.privacy_requests.save(request)


async def on_data_exported(
    event: CustomerDataExported, uow: PrivacyUnitOfWork, env: Envelope
) -> None:
    answer = {
        "part": event.part,
        "blob_ref": event.blob_ref,
        "blob_size": event.blob_size,
        "blob_sha256": event.blob_sha256,
    }
    await _record(uow, event.request_id, event.service, answer, event.exported_at)


async def on_data_erased(event: CustomerDataErased, uow: PrivacyUnitOfWork, env: Envelope) -> None:
    answer = event.model_dump(mode="json", include={"deleted", "anonymised", "retained"})
    await _record(uow, event.request_id, event.service, answer, event.erased_at)


async def privacy_request(desk: PrivacyDesk | None, request_id: str) -> PrivacyRequest:
    async def work(uow: PrivacyUnitOfWork) -> PrivacyRequest:
        request = await uow.privacy_requests.get(request_id)
        if request is None:
            raise NotFound("privacy request", request_id)
        return request

    return await _desk(desk).transactor.run(work)


# ------------------------------------------------------------------ participant


def _tax_records_until(now: datetime) -> date:
    return date(now.year + TAX_RETENTION_YEARS, 12, 31)


class OrdersPrivacy:
    """Orders as a privacy participant (``kontor_servicekit.privacy.participant``)."""

    async def export(self, subject: Subject, uow: PrivacyUnitOfWork) -> dict[str, Any]:
        records = uow.personal_records
        orders = await records.orders_of(subject.email)
        ids = [o.id for o in orders]
        return export_part(
            orders,
            await records.returns_of(ids),
            await records.complaints_of(ids),
            await records.carts_of(subject.email),
        )

    async def erase(
        self, subject: Subject, uow: PrivacyUnitOfWork, now: datetime
    ) -> ErasureSummary:
        records = uow.personal_records
        email = pseudonymous_email(subject)
        orders = await records.orders_of(subject.email)
        ids = [o.id for o in orders]
        returns = await records.returns_of(ids)
        complaints = await records.complaints_of(ids)
        carts = await records.carts_of(subject.email)
        changed = {"orders": 0, "returns": 0, "complaints": 0, "carts": 0}
        for order in orders:
            if erase_order(order, email, subject.subject_id, now):
                await uow.orders.save(order)
                changed["orders"] += 1
        for r in returns:
            if erase_return(r):
                await uow.returns.save(r)
                changed["returns"] += 1
        for complaint in complaints:
            if erase_complaint(complaint):
                await uow.complaints.save(complaint)
                changed["complaints"] += 1
        for cart in carts:
            if erase_cart(cart, email):
                await uow.carts.save(cart)
                changed["carts"] += 1
        anonymised = [
            ErasedItem(what=what, count=count) for what, count in changed.items() if count
        ]
        retained = []
        if orders:
            retained.append(
                ErasedItem(
                    what="order numbers, lines, amounts, postcode, city and country",
                    count=len(orders),
                    why="billing's invoices and the VAT returns refer to them (§147 AO, "
                    "§14b UStG); no name, e-mail or street is kept with them",
                    until=_tax_records_until(now),
                )
            )
        photos = sum(len(c.photo_ids) for c in complaints)
        if photos:
            retained.append(
                ErasedItem(
                    what="complaint photos",
                    count=photos,
                    why="evidence of the defect while warranty claims run (§438 BGB); "
                    "deleting them is not built yet (docs/privacy.md)",
                )
            )
        return ErasureSummary(anonymised=anonymised, retained=retained)
