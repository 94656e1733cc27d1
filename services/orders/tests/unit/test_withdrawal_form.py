"""The withdrawal page's steps over the in-memory unit of work, and what the page says:
its language by the browser, and refusals in the customer's words (issue 10 point 16)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_orders.api.withdrawal_pages import Pages, language_of, refusal_text, status_of
from kontor_orders.application.order_life import ship_order
from kontor_orders.application.withdrawal_form import (
    Refused,
    ShownLine,
    ShownWithdrawal,
    choose_lines,
    chosen_lines,
    declare,
    lines_to_choose,
)
from kontor_orders.domain.returns import DeadlinePassed
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.domain_errors import IllegalTransition, Invalid, NotFound, RateLimited

pytestmark = pytest.mark.unit

DAY_14_LATE = datetime(2026, 6, 17, 23, 0, tzinfo=BERLIN)


async def test_the_lines_to_choose_are_named_and_nothing_is_stored(world: Any) -> None:
    order = await world.delivered()
    world.clock.set(DAY_14_LATE)
    found = await lines_to_choose(
        world.transactor,
        order_number=f" {order.number.lower()}",
        email="ANNA@example.de",
        clock=world.clock,
    )
    assert isinstance(found, ShownWithdrawal) and found.withdrawal_id is None
    assert [(x.line_no, x.name, x.quantity) for x in found.lines] == [
        (1, order.lines[0].name, 2),
        (2, order.lines[1].name, 1),
    ]
    assert found.deadline is not None and found.deadline.astimezone(BERLIN).day == 17
    assert world.db.rows("withdrawals") == []


async def test_refusals_are_answered_not_raised(world: Any) -> None:
    order = await world.delivered()
    wrong = await lines_to_choose(
        world.transactor, order_number=order.number, email="eve@example.de", clock=world.clock
    )
    assert isinstance(wrong, Refused) and isinstance(wrong.error, NotFound)
    blank = await lines_to_choose(
        world.transactor, order_number=" ", email="anna@example.de", clock=world.clock
    )
    assert isinstance(blank, Refused) and isinstance(blank.error, Invalid)
    assert blank.error.field == ("order_number",)
    world.clock.set(datetime(2026, 6, 18, 0, 0, tzinfo=BERLIN))
    late = await lines_to_choose(
        world.transactor, order_number=order.number, email="anna@example.de", clock=world.clock
    )
    assert isinstance(late, Refused) and isinstance(late.error, DeadlinePassed)


async def test_chosen_lines_become_a_pending_withdrawal_and_a_bad_choice_shows_them_again(
    world: Any,
) -> None:
    order = await world.delivered()
    nothing = await choose_lines(
        world.transactor,
        order_number=order.number,
        email="anna@example.de",
        fields={"quantity-1": "0", "quantity-2": ""},
        clock=world.clock,
    )
    # nothing chosen is not "everything" (start_withdrawal's default for no lines)
    assert isinstance(nothing, Refused) and isinstance(nothing.error, Invalid)
    assert nothing.choices is not None and len(nothing.choices.lines) == 2
    too_many = await choose_lines(
        world.transactor,
        order_number=order.number,
        email="anna@example.de",
        fields={"quantity-1": "3"},
        clock=world.clock,
    )
    assert isinstance(too_many, Refused) and too_many.choices is not None
    assert world.db.rows("withdrawals") == []

    pending = await choose_lines(
        world.transactor,
        order_number=order.number,
        email="anna@example.de",
        fields={"quantity-1": "1", "quantity-2": "0", "lang": "de"},
        clock=world.clock,
    )
    assert isinstance(pending, ShownWithdrawal) and pending.withdrawal_id is not None
    assert [(x.line_no, x.quantity) for x in pending.lines] == [(1, 1)]
    assert pending.received_at is None


async def test_declaring_twice_shows_the_same_receipt(world: Any) -> None:
    order = await world.delivered()
    pending = await choose_lines(
        world.transactor,
        order_number=order.number,
        email="anna@example.de",
        fields={"quantity-2": "1"},
        clock=world.clock,
    )
    assert isinstance(pending, ShownWithdrawal) and pending.withdrawal_id is not None
    world.new_events()
    first = await declare(world.transactor, pending.withdrawal_id, world.clock, language="en")
    assert isinstance(first, ShownWithdrawal) and first.received_at == world.clock()
    assert world.new_event_types() == ["ReturnRequested", "WithdrawalReceived"]
    again = await declare(world.transactor, pending.withdrawal_id, world.clock, language="de")
    assert again == first
    assert world.new_events() == []
    unknown = await declare(world.transactor, "nope", world.clock, language="de")
    assert isinstance(unknown, Refused) and isinstance(unknown.error, NotFound)


async def test_before_shipment_the_page_offers_the_whole_order_and_cancels_it(
    world: Any,
) -> None:
    order = await world.confirmed()
    found = await lines_to_choose(
        world.transactor, order_number=order.number, email="anna@example.de", clock=world.clock
    )
    assert isinstance(found, ShownWithdrawal) and found.cancels_order
    assert [(x.line_no, x.quantity) for x in found.lines] == [(1, 2), (2, 1)]
    assert found.deadline is None
    # no quantities to choose: the page posts the whole order
    pending = await choose_lines(
        world.transactor,
        order_number=order.number,
        email="anna@example.de",
        fields={"whole_order": "yes", "lang": "de"},
        clock=world.clock,
    )
    assert isinstance(pending, ShownWithdrawal) and pending.withdrawal_id is not None
    assert pending.cancels_order and [(x.line_no, x.quantity) for x in pending.lines] == [
        (1, 2),
        (2, 1),
    ]
    world.new_events()
    first = await declare(world.transactor, pending.withdrawal_id, world.clock, language="de")
    assert isinstance(first, ShownWithdrawal) and first.cancels_order
    assert first.refund == Decimal("0") and first.received_at == world.clock()
    assert world.new_event_types() == ["OrderCancelled", "WithdrawalReceived"]
    assert world.order(order.id).status == "cancelled"
    again = await declare(world.transactor, pending.withdrawal_id, world.clock, language="de")
    assert again == first and world.new_events() == []


async def test_shipped_after_the_page_offered_the_whole_order_the_lines_are_chosen(
    world: Any,
) -> None:
    order = await world.confirmed()
    await ship_order(
        world.transactor,
        order.id,
        carrier="DHL",
        tracking_number=None,
        lines=[(1, 2)],
        clock=world.clock,
    )
    stale = await choose_lines(
        world.transactor,
        order_number=order.number,
        email="anna@example.de",
        fields={"whole_order": "yes"},
        clock=world.clock,
    )
    # "the whole order" is not "everything shipped": the shipped line is offered instead
    assert isinstance(stale, Refused) and isinstance(stale.error, Invalid)
    assert stale.choices is not None and not stale.choices.cancels_order
    assert [(x.line_no, x.quantity) for x in stale.choices.lines] == [(1, 2)]
    assert world.db.rows("withdrawals") == []


@pytest.mark.parametrize(
    ("lang", "whole", "cancelled", "refunded"),
    [
        (
            "de",
            "ist noch nicht versandt. Ein Widerruf gilt daher für die ganze Bestellung",
            "Ihre Bestellung B-1 ist storniert.",
            "Den bereits gezahlten Betrag von 1.029,75 € erstatten wir Ihnen.",
        ),
        (
            "en",
            "has not been shipped yet. A withdrawal is therefore from the whole order",
            "Your order B-1 is cancelled.",
            "The €1,029.75 you have paid already will be refunded.",
        ),
    ],
)
def test_the_pages_say_that_a_withdrawal_before_shipment_cancels_the_order(
    lang: Any, whole: str, cancelled: str, refunded: str
) -> None:
    pages = Pages(lang)
    line = ShownLine(1, "TEE", "T-Shirt", 2)
    offered = ShownWithdrawal(None, "B-1", [line], None, cancels_order=True)
    choose = pages.choose(offered, email="anna@example.de")
    assert whole in choose and 'name="whole_order" value="yes"' in choose
    assert 'name="quantity-1"' not in choose  # no choice to make
    pending = ShownWithdrawal("w-1", "B-1", [line], None, cancels_order=True)
    assert pages.t["whole_review"] in pages.review(pending)
    received = datetime(2026, 6, 1, 10, 0, tzinfo=BERLIN)
    declared = ShownWithdrawal(
        "w-1", "B-1", [line], None, received, "r-1", cancels_order=True, refund=Decimal("1029.75")
    )
    for text in (pages.receipt(declared), pages.receipt_text(declared)):
        assert cancelled in text and refunded in text
    unpaid = ShownWithdrawal("w-1", "B-1", [line], None, received, "r-1", cancels_order=True)
    assert cancelled in pages.receipt(unpaid) and refunded not in pages.receipt(unpaid)
    shipped = ShownWithdrawal("w-1", "B-1", [line], None, received, "r-1")
    assert cancelled not in pages.receipt(shipped)
    assert 'name="quantity-1"' in pages.choose(
        ShownWithdrawal(None, "B-1", [line], None), email="a@b.de"
    )


def test_chosen_lines_are_read_from_the_form_fields() -> None:
    fields = {"quantity-1": "2", "quantity-2": "0", "quantity-3": " ", "email": "x"}
    assert chosen_lines(fields) == [(1, 2, None)]
    with pytest.raises(Invalid):
        chosen_lines({"quantity-1": "zwei"})
    with pytest.raises(Invalid):
        chosen_lines({"quantity-x": "1"})


@pytest.mark.parametrize(
    ("header", "chosen", "expected"),
    [
        (None, None, "de"),
        ("de-DE,de;q=0.9,en;q=0.8", None, "de"),
        ("en-GB,en;q=0.9,de;q=0.5", None, "en"),
        ("fr-FR,fr;q=0.9,en;q=0.5", None, "en"),
        ("de;q=0.4,en;q=0.6", None, "en"),
        ("fr, it", None, "de"),
        ("en;q=nonsense,de;q=0.1", None, "de"),
        ("en-US", "de", "de"),
        ("de", "en", "en"),
        ("en", "xx", "en"),
    ],
)
def test_the_language_is_the_browsers_or_the_chosen_one(
    header: str | None, chosen: str | None, expected: str
) -> None:
    assert language_of(header, chosen) == expected


def test_refusals_are_explained_in_the_pages_language() -> None:
    deadline = datetime(2026, 6, 15, 23, 59, 59, 999000, tzinfo=BERLIN)
    late = DeadlinePassed("order B-1", deadline)
    assert "am 15.06.2026 abgelaufen" in refusal_text(late, "de")
    assert "ended on 15 June 2026" in refusal_text(late, "en")
    cancelled = IllegalTransition("order B-1", "withdraw from", "cancelled")
    assert "(Stand: storniert)" in refusal_text(cancelled, "de")
    assert "Wir finden keine Bestellung" in refusal_text(NotFound("order", "B-1"), "de")
    assert "kennen wir nicht" in refusal_text(NotFound("withdrawal", "w"), "de")
    lines = Invalid("line 1 has 2 shipped piece(s) not yet returned", field=("lines", 0))
    assert "Bitte wählen Sie" in refusal_text(lines, "de", choosing=True)
    assert "keine Artikel mehr" in refusal_text(lines, "de")
    assert "in 7 Sekunden" in refusal_text(RateLimited("x", retry_after_s=7), "de")
    assert [status_of(e) for e in (late, NotFound("o", "k"), lines)] == [409, 404, 422]


def test_pages_link_under_the_root_path_and_escape_what_was_typed() -> None:
    page = Pages("de", "/shop/").identify(order_number='"><script>', email="a@b.de")
    assert 'href="/shop/withdrawals/page/withdrawal.css"' in page
    assert 'action="/shop/withdrawals/page/lines"' in page
    assert "<script>" not in page and "&quot;&gt;&lt;script&gt;" in page
