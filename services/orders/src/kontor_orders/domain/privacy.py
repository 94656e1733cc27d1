"""Privacy requests (issue 13, ADR 0035) and what erasure does to orders' records. Pure.

A :class:`PrivacyRequest` is an export or an erasure of one person's data, asked for by
the merchant. It waits for the answer of every expected service and is ``complete``
when each has answered; an export's document is the services' parts side by side.

A part too large for an event is stored by its service and named by the answer
(:class:`StoredPart`, ADR 0142): :func:`check_part` judges the stored bytes against the
size and SHA-256 the answer gave, and the document shows each such part as read, or
the reason it could not be (``problems``).

Erasure in orders (:func:`erase_order` and friends): the person's name, e-mail,
company, street and VAT id are replaced by placeholders; what is left is what the
order's own accounting and billing's tax records refer to: the order number, its lines
and amounts, the postcode, city and country (place of supply, OSS), the dates.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from kontor_servicekit.aggregate import RecordsEvents
from kontor_servicekit.domain_errors import Conflict, Invalid

from kontor_orders.domain.cart import Cart
from kontor_orders.domain.complaint import Complaint
from kontor_orders.domain.order import Address, Customer, Order
from kontor_orders.domain.returns import Return

Kind = Literal["export", "erasure"]
KINDS: tuple[Kind, ...] = ("export", "erasure")
PLACEHOLDER = "—"
"""What stands for a required personal text once erased (``kontor_contracts.personal``)."""


@dataclass(frozen=True)
class PrivacyRequested:
    """Recorded when a request is opened (the use case emits the contract event)."""

    request_id: str


@dataclass(frozen=True)
class PrivacyRequestCompleted:
    request_id: str


@dataclass(frozen=True)
class PrivacyRequestTimedOut:
    request_id: str
    missing: tuple[str, ...]


@dataclass(frozen=True)
class StoredPart:
    """A service's part kept in blob storage: which blob, how long, its SHA-256."""

    service: str
    blob_ref: str
    size: int | None
    sha256: str | None


def check_part(stored: StoredPart, data: bytes | None) -> tuple[dict[str, Any] | None, str | None]:
    """The part read from ``data`` (the blob's bytes, None: not found), or why it cannot be
    used: missing, another length or digest than the answer gave (changed since), not a
    JSON object."""
    if data is None:
        return None, f"{stored.service}'s part (blob {stored.blob_ref}) is missing"
    if stored.size is not None and len(data) != stored.size:
        return None, (
            f"{stored.service}'s part (blob {stored.blob_ref}) has {len(data)} bytes, "
            f"the answer said {stored.size}: it was changed"
        )
    digest = hashlib.sha256(data).hexdigest()
    if stored.sha256 is None or digest != stored.sha256:
        return None, (
            f"{stored.service}'s part (blob {stored.blob_ref}) has the SHA-256 {digest}, "
            f"the answer said {stored.sha256}: it was changed"
        )
    try:
        part = json.loads(data)
    except ValueError:
        part = None
    if not isinstance(part, dict):
        return None, f"{stored.service}'s part (blob {stored.blob_ref}) is not a JSON object"
    return part, None


@dataclass
class PrivacyRequest(RecordsEvents):
    id: str
    kind: Kind
    subject_id: str
    expected: tuple[str, ...]
    requested_at: datetime
    email: str | None = None
    """Kept for an export only (its document holds it anyway); an erasure forgets it."""
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """service -> its answer (the export part, or what it erased), with ``answered_at``."""
    status: str = "pending"
    completed_at: datetime | None = None
    expires_at: datetime | None = None
    """When the record (with an export's document) is deleted (TTL)."""
    answer_by: datetime | None = None
    """When a service that has not answered yet counts as not answering: the request
    shows ``timed_out`` with who is ``missing`` (a late answer still completes it)."""
    key_destroyed_at: datetime | None = None
    """When the request's own key (what its e-mail was sealed with) was destroyed."""
    version: int = 1

    @classmethod
    def open(
        cls,
        *,
        request_id: str,
        kind: str,
        subject_id: str,
        email: str,
        expected: tuple[str, ...],
        now: datetime,
        keep_until: datetime,
        answer_within: timedelta | None = None,
    ) -> PrivacyRequest:
        if kind not in KINDS:
            raise Invalid(f"kind must be one of {', '.join(KINDS)}", field=("kind",))
        if not expected:
            raise Conflict("no service is expected to answer privacy requests (a setting)")
        request = cls(
            id=request_id,
            kind=kind,  # checked above
            subject_id=subject_id,
            expected=tuple(dict.fromkeys(expected)),
            requested_at=now,
            email=email if kind == "export" else None,
            expires_at=keep_until,
            answer_by=None if answer_within is None else now + answer_within,
        )
        request.record(PrivacyRequested(request_id))
        return request

    @property
    def missing(self) -> list[str]:
        return [service for service in self.expected if service not in self.answers]

    def record_answer(self, service: str, answer: dict[str, Any], at: datetime) -> None:
        """One service answered; the first answer of a service counts (a redelivery or a
        second copy changes nothing). Complete once every expected service answered."""
        if service in self.answers:
            return
        if self.forgotten:  # a late part for a person erased since is not kept
            answer = {**answer, "part": None, "blob_ref": None}
        self.answers[service] = {**answer, "answered_at": at}
        if self.status in ("pending", "timed_out") and not self.missing:
            self.status = "complete"
            self.completed_at = at
            self.record(PrivacyRequestCompleted(self.id))

    def time_out(self, now: datetime) -> bool:
        """A pending request past ``answer_by`` is ``timed_out`` (who is missing shows);
        False if it is not due."""
        if self.status != "pending" or self.answer_by is None or now < self.answer_by:
            return False
        self.status = "timed_out"
        self.record(PrivacyRequestTimedOut(self.id, tuple(self.missing)))
        return True

    def key_due(self, now: datetime, topic_retention: timedelta) -> bool:
        """Whether the request's own key can go: every service has read the request (it
        is complete), or no copy of it is left on the topic to read. A timed-out request
        keeps it, so a late service can still find the person's data and answer."""
        if self.key_destroyed_at is not None:
            return False
        return self.status == "complete" or now >= self.requested_at + topic_retention

    def key_destroyed(self, now: datetime) -> None:
        self.key_destroyed_at = now

    @property
    def forgotten(self) -> bool:
        """An export whose person was erased since (:meth:`forget_personal_data`)."""
        return self.kind == "export" and self.email is None

    def forget_personal_data(self) -> bool:
        """An erasure of the same person came after this export: its e-mail and the
        gathered parts go, the stored ones' references too (the caller deletes those
        blobs, :meth:`stored_parts` before this); what was asked and who answered stays.
        False if nothing was left to forget."""
        parts = [
            a
            for a in self.answers.values()
            if a.get("part") is not None or a.get("blob_ref") is not None
        ]
        if self.email is None and not parts:
            return False
        self.email = None
        for answer in parts:
            answer["part"] = None
            answer["blob_ref"] = None
        return True

    def stored_parts(self) -> list[StoredPart]:
        """The parts of this export kept in blob storage (none once forgotten)."""
        if self.forgotten:
            return []
        return [
            StoredPart(
                service, answer["blob_ref"], answer.get("blob_size"), answer.get("blob_sha256")
            )
            for service, answer in sorted(self.answers.items())
            if answer.get("blob_ref") is not None
        ]

    def keeps_blob(self, service: str, blob_ref: str, now: datetime) -> bool:
        """Whether a stored part ``blob_ref`` of ``service`` for this request is still
        wanted: the request has not expired nor been forgotten, and the service's answer
        names that blob or has not arrived yet (the blob is written first)."""
        if self.forgotten or (self.expires_at is not None and now >= self.expires_at):
            return False
        answer = self.answers.get(service)
        return answer is None or answer.get("blob_ref") == blob_ref

    def document(
        self,
        stored: Mapping[str, dict[str, Any]] | None = None,
        problems: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """An export's document: each service's part under its name (so far); a part kept
        in blob storage as read (``stored``, by service) or null with the reason under
        ``problems`` (the document is not complete then)."""
        if self.kind != "export":
            raise Conflict(f"privacy request {self.id} is an erasure: it has no document")
        stored = stored or {}
        problems = dict(problems or {})
        document: dict[str, Any] = {
            "request_id": self.id,
            "subject_id": self.subject_id,
            "email": self.email,
            "requested_at": self.requested_at,
            "complete": self.status == "complete" and not problems,
            "services": {
                service: stored.get(service) if answer.get("blob_ref") else answer.get("part")
                for service, answer in sorted(self.answers.items())
                if "part" in answer
            },
        }
        if problems:
            document["problems"] = problems
        return document


# ------------------------------------------------------------------ export


def plain(value: Any) -> Any:
    """A domain object as JSON-able data: dataclasses as dicts, amounts as strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not f.name.startswith("_")
        }
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def export_part(
    orders: list[Order], returns: list[Return], complaints: list[Complaint], carts: list[Cart]
) -> dict[str, Any]:
    """Orders' part of a person's export: everything it holds on them, as stored."""
    return {
        "orders": [plain(o) for o in orders],
        "returns": [plain(r) for r in returns],
        "complaints": [plain(c) for c in complaints],
        "carts": [plain(c) for c in carts],
    }


# ------------------------------------------------------------------ erasure


def _erased_address(address: Address) -> Address:
    return replace(address, name=PLACEHOLDER, street=PLACEHOLDER, company=None)


def erase_order(order: Order, pseudonymous_email: str, subject_id: str, now: datetime) -> bool:
    """Replace the person's data on ``order``; False if it was erased already."""
    erased = Customer(email=pseudonymous_email, name=PLACEHOLDER, customer_id=None)
    if order.customer == erased:
        return False
    order.customer = erased
    order.shipping_address = _erased_address(order.shipping_address)
    if order.billing_address is not None:
        order.billing_address = _erased_address(order.billing_address)
    order.buyer_vat_id = None
    order.note("personal_data_erased", now, subject_id=subject_id)
    return True


def erase_cart(cart: Cart, pseudonymous_email: str) -> bool:
    if cart.customer_email in (None, pseudonymous_email):
        return False
    cart.customer_email = pseudonymous_email
    return True


def erase_return(r: Return) -> bool:
    """A return's note may quote the customer: it goes; lines and refunds stay."""
    if r.note is None:
        return False
    r.note = None
    return True


def erase_complaint(complaint: Complaint) -> bool:
    """The customer's description goes; what was decided (and photo ids) stays."""
    if complaint.description == PLACEHOLDER:
        return False
    complaint.description = PLACEHOLDER
    return True
