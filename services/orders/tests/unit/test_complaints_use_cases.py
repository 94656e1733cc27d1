"""Complaints over the in-memory unit of work: filing within the 2-year warranty with
uploaded photos, and the resolution by replacement or refund."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.events.catalog import (
    ReplacementStockBooked,
    ReplacementStockRejected,
    ReservationLine,
    ReservationShortfall,
)
from kontor_contracts.events.orders import ComplaintFiled, ReplacementRequested, ReturnCompleted
from kontor_orders.application.complaints import (
    FileComplaint,
    ResolveComplaint,
    file_complaint,
    on_replacement_stock_booked,
    on_replacement_stock_rejected,
    resolve_complaint,
)
from kontor_orders.domain.complaint import Complaint, WarrantyExpired
from kontor_orders.domain.order import Order, OrderError
from kontor_orders.domain.refunds import RefundExceedsRemaining
from kontor_servicekit.domain_errors import IllegalTransition, Invalid, NotFound

pytestmark = pytest.mark.unit


async def upload(world: Any, *photo_ids: str) -> None:
    async def work(uow: Any) -> None:
        for photo_id in photo_ids:
            uow.photos.add(photo_id)

    await world.transactor.run(work)


async def complain(world: Any, order: Order, **changes: Any) -> Complaint:
    fields: dict[str, Any] = {
        "order_id": order.id,
        "line_no": 1,
        "description": "Naht aufgegangen",
        "kind": "defect",
        "desired_remedy": "refund",
    }
    fields.update(changes)
    c: Complaint = await file_complaint(world.transactor, FileComplaint(**fields), world.clock)
    return c


async def test_a_complaint_is_filed_with_its_photos_and_announced(world: Any) -> None:
    order = await world.delivered()
    await upload(world, "ph-1", "ph-2")
    world.new_events()
    c = await complain(world, order, photo_ids=["ph-1", "ph-2"])
    assert (c.status, c.sku, c.order_number, c.filed_at) == (
        "open",
        "TEE",
        order.number,
        world.clock(),
    )
    [stored] = world.db.rows("complaints")
    assert stored.id == c.id
    timeline = world.order(order.id).timeline[-1]
    assert (timeline.event, timeline.details) == (
        "complaint_filed",
        {"complaint_id": c.id, "sku": "TEE", "kind": "defect"},
    )
    [filed] = world.new_events()
    assert isinstance(filed, ComplaintFiled)
    assert (filed.complaint_id, filed.sku, filed.photo_ids) == (c.id, "TEE", ["ph-1", "ph-2"])
    assert filed.customer.email == "anna@example.de"
    assert world.db.outbox[-1].aggregate_id == c.id


async def test_photos_must_be_uploaded_first(world: Any) -> None:
    order = await world.delivered()
    await upload(world, "ph-1")
    with pytest.raises(Invalid) as caught:
        await complain(world, order, photo_ids=["ph-1", "nope", "gone"])
    assert [(p.loc, p.msg) for p in caught.value.problems] == [
        (("photo_ids", 1), "no such photo"),
        (("photo_ids", 2), "no such photo"),
    ]
    assert "upload photos with POST /complaint-photos first" in str(caught.value)
    assert world.db.rows("complaints") == []


async def test_the_warranty_ends_two_years_after_delivery(world: Any) -> None:
    order = await world.delivered()
    assert order.delivered_at is not None
    world.clock.set(order.delivered_at.replace(year=2028))  # the last moment
    await complain(world, order)
    world.clock.advance(timedelta(milliseconds=1))
    with pytest.raises(WarrantyExpired) as caught:
        await complain(world, order)
    assert caught.value.current_state == "expired"
    assert caught.value.details["warranty_end"].startswith("2028-06-03")
    assert len(world.db.rows("complaints")) == 1


async def test_an_unshipped_line_and_an_unknown_order_or_line_are_refused(world: Any) -> None:
    with pytest.raises(NotFound, match="no order 'nope'"):
        await file_complaint(world.transactor, FileComplaint("nope", 1, "x"), world.clock)
    unshipped = await world.confirmed()
    with pytest.raises(IllegalTransition) as caught:
        await complain(world, unshipped)
    assert caught.value.current_state == "confirmed"
    order = await world.delivered()
    with pytest.raises(OrderError) as no_line:
        await complain(world, order, line_no=9)
    assert no_line.value.field == ("line_no",)
    assert world.db.rows("complaints") == []


async def test_a_replacement_resolves_without_a_refund(world: Any) -> None:
    # issue 10 point 9 changed this test: a replacement is a shipment the catalog books
    # out; the complaint waits for its answer (it was "resolved" at once, stock unchanged)
    order = await world.delivered()
    c = await complain(world, order)
    world.new_events()
    pending = await resolve_complaint(
        world.transactor,
        c.id,
        ResolveComplaint("replacement", carrier="DHL", tracking_number="JJD1"),
        world.clock,
    )
    assert pending.status == "replacement_pending"
    assert pending.resolution is not None and pending.resolution.carrier == "DHL"
    [requested] = world.new_events()
    assert isinstance(requested, ReplacementRequested)
    assert (requested.complaint_id, requested.order_id, requested.sku) == (c.id, order.id, "TEE")
    assert (requested.line_no, requested.quantity, requested.carrier) == (1, 1, "DHL")
    assert requested.tracking_number == "JJD1"
    assert world.order(order.id).timeline[-1].event == "replacement_requested"

    booked = ReplacementStockBooked(
        order_id=order.id,
        complaint_id=c.id,
        lines=[ReservationLine(sku="TEE", quantity=1, warehouse="main")],
    )
    assert await world.deliver(on_replacement_stock_booked, booked)
    [stored] = world.db.rows("complaints")
    assert stored.status == "resolved"
    stored_order = world.order(order.id)
    assert stored_order.status == "delivered"  # the shipping status is not reopened
    assert stored_order.timeline[-1].event == "replacement_shipped"
    assert stored_order.timeline[-1].details["tracking_number"] == "JJD1"
    assert world.new_events() == []  # no refund
    # the same answer again (say, replayed under another event id) changes nothing
    again = ReplacementStockBooked(**booked.model_dump())
    assert await world.deliver(on_replacement_stock_booked, again)
    assert len(world.order(order.id).timeline) == len(stored_order.timeline)


async def test_a_replacement_without_stock_opens_the_complaint_again(world: Any) -> None:
    order = await world.delivered()
    c = await complain(world, order)
    command = ResolveComplaint("replacement", carrier="DHL")
    await resolve_complaint(world.transactor, c.id, command, world.clock)
    rejected = ReplacementStockRejected(
        order_id=order.id,
        complaint_id=c.id,
        reasons=[ReservationShortfall(sku="TEE", requested=1, available=0)],
    )
    await world.deliver(on_replacement_stock_rejected, rejected)
    [stored] = world.db.rows("complaints")
    assert (stored.status, stored.resolution) == ("open", None)
    assert stored.replacement_refused == "TEE: requested 1, available 0"
    timeline = world.order(order.id).timeline[-1]
    assert (timeline.event, timeline.details["reason"]) == (
        "replacement_refused",
        "TEE: requested 1, available 0",
    )
    # the merchant refunds instead
    world.new_events()
    refunded = await resolve_complaint(
        world.transactor, c.id, ResolveComplaint("refund"), world.clock
    )
    assert refunded.status == "resolved"
    assert [type(e).__name__ for e in world.new_events()] == ["ReturnCompleted"]


async def test_an_answer_for_an_unknown_complaint_is_refused(world: Any) -> None:
    booked = ReplacementStockBooked(
        order_id="o",
        complaint_id="nope",
        lines=[ReservationLine(sku="TEE", quantity=1, warehouse="main")],
    )
    with pytest.raises(NotFound, match="no complaint 'nope'"):
        await world.deliver(on_replacement_stock_booked, booked)


async def test_a_replacement_needs_its_carrier(world: Any) -> None:
    with pytest.raises(Invalid) as caught:
        await resolve_complaint(
            world.transactor, "any", ResolveComplaint("replacement"), world.clock
        )
    [problem] = caught.value.problems
    assert (problem.loc, problem.type) == (("carrier",), "missing")


async def test_a_refund_is_announced_as_a_completed_return_of_the_complaint(world: Any) -> None:
    order = await world.delivered()
    c = await complain(world, order)
    world.new_events()
    resolved = await resolve_complaint(
        world.transactor, c.id, ResolveComplaint("refund", note="Kulanz"), world.clock
    )
    assert resolved.resolution is not None
    assert resolved.resolution.refund_amount == Decimal("11.90")  # one piece of 23.80
    [completed] = world.new_events()
    assert isinstance(completed, ReturnCompleted)
    assert (completed.return_id, completed.refund_amount, completed.includes_shipping) == (
        c.id,
        Decimal("11.90"),
        False,
    )
    assert [(x.line_no, x.sku, x.quantity) for x in completed.lines] == [(1, "TEE", 1)]
    assert world.order(order.id).timeline[-1].details == {
        "complaint_id": c.id,
        "amount": "11.90",
    }


async def test_a_refund_is_at_most_the_line_and_a_complaint_is_resolved_once(world: Any) -> None:
    order = await world.delivered()
    c = await complain(world, order)
    # issue 10 point 6 changed this: 409 naming what is left, no longer 422 at amount
    with pytest.raises(RefundExceedsRemaining) as too_much:
        await resolve_complaint(
            world.transactor, c.id, ResolveComplaint("refund", amount=Decimal("23.81")), world.clock
        )
    assert too_much.value.details == {"remaining": "23.80", "currency": "EUR"}
    await resolve_complaint(
        world.transactor, c.id, ResolveComplaint("refund", amount=Decimal("23.80")), world.clock
    )
    world.new_events()
    with pytest.raises(IllegalTransition) as twice:
        await resolve_complaint(world.transactor, c.id, ResolveComplaint("refund"), world.clock)
    assert str(twice.value) == f"cannot resolve complaint {c.id}: it is resolved"
    assert world.new_events() == []


async def test_an_unknown_complaint_is_not_found(world: Any) -> None:
    with pytest.raises(NotFound, match="no complaint 'nope'"):
        await resolve_complaint(world.transactor, "nope", ResolveComplaint("refund"), world.clock)
