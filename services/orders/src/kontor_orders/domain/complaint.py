"""Complaints (Reklamation, warranty §437 BGB): filed for a delivered article,
resolved by a replacement shipment or a refund. Pure.

A replacement is a shipment: resolving by replacement asks the catalog to reserve and
book out the piece (``replacement_pending``); the complaint is ``resolved`` when the
catalog booked it out, and ``open`` again (with the shortfall) when there was no stock,
so the merchant can refund instead or try again after a goods receipt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from kontor_contracts.money import quantize
from kontor_servicekit.aggregate import RecordsEvents
from kontor_servicekit.clock import iso_utc
from kontor_servicekit.domain_errors import FieldProblem, IllegalTransition, Invalid, NotFound

from kontor_orders.domain.events import (
    ComplaintWasFiled,
    ComplaintWasResolved,
    ReplacementWasRequested,
)
from kontor_orders.domain.order import Order, OrderError
from kontor_orders.domain.refunds import (
    RefundExceedsRemaining,
    book_refund,
    line_refundable,
    order_refundable,
    require_refundable,
)

COMPLAINT_STATUSES = ("open", "replacement_pending", "resolved")
#: Pieces a replacement ships (one of the line, as a refund's default is one piece).
REPLACEMENT_QUANTITY = 1
REMEDIES = ("replacement", "refund")
WARRANTY_YEARS = 2


def warranty_end(delivered_at: datetime) -> datetime:
    """Two years from delivery (§438 (1) no. 3, (2) BGB)."""
    try:
        return delivered_at.replace(year=delivered_at.year + WARRANTY_YEARS)
    except ValueError:  # 29 February
        return delivered_at.replace(year=delivered_at.year + WARRANTY_YEARS, day=28)


class WarrantyExpired(IllegalTransition):
    """Filed more than two years after delivery (409 with ``warranty_end``)."""

    def __init__(self, subject: str, end: datetime) -> None:
        super().__init__(
            subject,
            "complain about",
            "expired",
            message=f"the warranty ended on {end.isoformat()} (2 years after delivery)",
        )
        self.details["warranty_end"] = iso_utc(end)
        self.end = end


class UnknownComplaint(NotFound):
    def __init__(self, key: str) -> None:
        super().__init__("complaint", key)


def require_replacement_carrier(remedy: str, carrier: str | None) -> None:
    """A replacement is a shipment: it needs its carrier."""
    if remedy == "replacement" and carrier is None:
        msg = "a replacement shipment needs its carrier"
        raise Invalid(msg, field=("carrier",), type_="missing")


def require_known_photos(photo_ids: list[str], known: list[bool]) -> None:
    """Every referenced photo was uploaded first (``known[i]`` for ``photo_ids[i]``)."""
    missing = [i for i, found in enumerate(known) if not found]
    if missing:
        raise Invalid(
            "unknown photo ids: upload photos with POST /complaint-photos first",
            problems=[FieldProblem(("photo_ids", i), "no such photo") for i in missing],
        )


@dataclass(frozen=True)
class Resolution:
    remedy: str
    at: datetime
    note: str | None = None
    refund_amount: Decimal | None = None
    carrier: str | None = None
    tracking_number: str | None = None


@dataclass
class Complaint(RecordsEvents):
    id: str
    order_id: str
    order_number: str
    line_no: int
    sku: str
    description: str
    filed_at: datetime
    photo_ids: list[str] = field(default_factory=list)
    kind: str | None = None
    desired_remedy: str | None = None
    status: str = "open"
    resolution: Resolution | None = None
    replacement_refused: str | None = None
    """Why the last replacement could not ship (the catalog's shortfall)."""

    @classmethod
    def file(
        cls,
        *,
        complaint_id: str,
        order: Order,
        line_no: int,
        description: str,
        photo_ids: list[str],
        kind: str | None,
        desired_remedy: str | None,
        now: datetime,
    ) -> Complaint:
        line = next((x for x in order.lines if x.line_no == line_no), None)
        if line is None:
            raise OrderError(("line_no",), f"the order has no line {line_no}")
        if order.shipped_quantity(line_no) == 0:
            raise IllegalTransition(
                order.subject, "complain about an unshipped line of", order.status
            )
        if order.fully_returned(line_no):
            # the goods are back (or on their way): the return settles them, not a complaint
            raise IllegalTransition(
                order.subject,
                "complain about",
                order.status,
                message=f"cannot complain about line {line_no} of {order.subject}: "
                "every shipped piece of it was returned",
            )
        if order.delivered_at is not None and now > warranty_end(order.delivered_at):
            raise WarrantyExpired(order.subject, warranty_end(order.delivered_at))
        complaint = cls(
            id=complaint_id,
            order_id=order.id,
            order_number=order.number,
            line_no=line_no,
            sku=line.sku,
            description=description,
            filed_at=now,
            photo_ids=list(photo_ids),
            kind=kind,
            desired_remedy=desired_remedy,
        )
        order.note("complaint_filed", now, complaint_id=complaint_id, sku=line.sku, kind=kind)
        complaint.record(ComplaintWasFiled(complaint_id))
        return complaint

    @property
    def subject(self) -> str:
        return f"complaint {self.id}"

    def resolve_by_replacement(
        self, *, carrier: str, tracking_number: str | None, note: str | None, now: datetime
    ) -> Resolution:
        """A replacement is to ship: records ReplacementWasRequested (the catalog reserves
        and books it out); ``replacement_pending`` until the catalog answers."""
        self._open()
        self.resolution = Resolution("replacement", now, note, None, carrier, tracking_number)
        self.status = "replacement_pending"
        self.replacement_refused = None
        self.record(ReplacementWasRequested(self.id, REPLACEMENT_QUANTITY))
        return self.resolution

    def replacement_booked(self, order: Order, now: datetime) -> None:
        """The catalog booked the replacement out of stock: the complaint is resolved
        (records ComplaintWasResolved). An answer for a complaint no longer waiting
        changes nothing (a duplicate)."""
        if self.status != "replacement_pending" or self.resolution is None:
            return
        self.status = "resolved"
        self.record(ComplaintWasResolved(self.id, "replacement", None))
        order.note(
            "replacement_shipped",
            now,
            complaint_id=self.id,
            sku=self.sku,
            carrier=self.resolution.carrier,
            tracking_number=self.resolution.tracking_number,
        )

    def replacement_rejected(self, order: Order, shortfall: str, now: datetime) -> None:
        """No stock for the replacement: the complaint is open again, with the reason,
        for another remedy or another try."""
        if self.status != "replacement_pending":
            return
        self.status = "open"
        self.resolution = None
        self.replacement_refused = shortfall
        order.note("replacement_refused", now, complaint_id=self.id, reason=shortfall)

    def resolve_by_refund(
        self, order: Order, *, amount: Decimal | None, note: str | None, now: datetime
    ) -> Resolution:
        """Refund ``amount`` (default: one piece of the line, gross, cut to what is still
        refundable) and book it on the order.

        A named amount above what is still refundable on the line or the order (gross
        minus earlier refunds by returns and complaints) is refused
        (RefundExceedsRemaining, 409 with ``remaining``); so is any refund when nothing
        is left."""
        self._open()
        line = next(x for x in order.lines if x.line_no == self.line_no)
        if amount is not None and amount <= 0:
            raise OrderError(("amount",), "a refund is at least 0.01")
        left = min(line_refundable(order, self.line_no), order_refundable(order))
        if amount is None:
            one_piece = quantize(line.line_gross / line.quantity, order.currency)
            if left <= 0:
                raise RefundExceedsRemaining(
                    f"line {self.line_no} of {order.subject}", one_piece, left, order.currency
                )
            refund = min(one_piece, left)
        else:
            require_refundable(order, self.line_no, amount)
            refund = amount
        book_refund(order, {self.line_no: refund})
        self.resolution = Resolution("refund", now, note, refund)
        self.status = "resolved"
        self.record(ComplaintWasResolved(self.id, "refund", refund))
        return self.resolution

    def resolve(
        self,
        order: Order,
        *,
        remedy: str,
        note: str | None,
        amount: Decimal | None,
        carrier: str | None,
        tracking_number: str | None,
        now: datetime,
    ) -> Resolution:
        """Resolve by ``remedy`` (replacement or refund) and note it on the order's timeline."""
        if remedy == "replacement":
            require_replacement_carrier(remedy, carrier)
            assert carrier is not None
            resolution = self.resolve_by_replacement(
                carrier=carrier, tracking_number=tracking_number, note=note, now=now
            )
            order.note(
                "replacement_requested",
                now,
                complaint_id=self.id,
                sku=self.sku,
                carrier=carrier,
                tracking_number=tracking_number,
            )
            return resolution
        resolution = self.resolve_by_refund(order, amount=amount, note=note, now=now)
        order.note(
            "complaint_refunded", now, complaint_id=self.id, amount=str(resolution.refund_amount)
        )
        return resolution

    def _open(self) -> None:
        if self.status != "open":
            raise IllegalTransition(self.subject, "resolve", self.status)
