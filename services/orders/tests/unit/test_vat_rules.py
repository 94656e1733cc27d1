"""Who pays which VAT: EU business buyers (issue 10 point 4) and shipping (point 5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.events.orders import OrderPlaced
from kontor_orders.application.vat_ids import confirm_vat_id
from kontor_orders.domain.order import INTRA_COMMUNITY_NOTE, Address, vat_treatment
from kontor_servicekit.domain_errors import Conflict

pytestmark = pytest.mark.unit

VIENNA = Address(
    name="Eva Gruber",
    company="Gruber Handels GmbH",
    street="Ringstr. 1",
    postcode="1010",
    city="Wien",
    country="AT",
)
AT_VAT_ID = "ATU13585627"  # format and check digits valid (ATU12345678 fails them)


@pytest.mark.parametrize(
    ("vat_id", "country", "treatment"),
    [
        (AT_VAT_ID, "AT", "intra_community_supply"),
        ("FR40303265045", "AT", "intra_community_supply"),  # goods leave Germany
        (AT_VAT_ID, "DE", "domestic"),  # the goods stay in Germany
        ("DE136695976", "AT", "domestic"),  # a German VAT id: §6a needs another state's
        (AT_VAT_ID, "CH", "domestic"),  # an export is another rule (not here)
        (None, "AT", "domestic"),  # a consumer
    ],
)
def test_an_intra_community_supply_needs_another_states_vat_id_and_goods_leaving(
    vat_id: str | None, country: str, treatment: str
) -> None:
    assert vat_treatment(vat_id, replace(VIENNA, country=country)) == treatment


async def test_an_austrian_business_pays_no_german_vat_and_the_event_says_why(
    world: Any,
) -> None:
    # issue 10 point 4: this order was charged 7 % and 19 %
    await world.product("COFFEE", "10.00", vat_rate="0.07")
    await world.shipping_method("standard", "5.00", countries=("DE", "AT"))
    order = await world.place(
        lines=[("TEE", 2), ("COFFEE", 1)],
        shipping_address=VIENNA,
        buyer_vat_id=AT_VAT_ID,
        shipping_method="standard",
    )
    assert order.vat_treatment == "intra_community_supply"
    assert order.vat_total == Decimal("0.00")
    assert order.gross_total == order.net_total == Decimal("35.00")  # 20 + 10 + 5 shipping
    assert {line.vat_rate for line in order.lines} == {Decimal("0")}
    assert order.vat_note == INTRA_COMMUNITY_NOTE
    assert order.vat_id_check is not None and order.vat_id_check.vies == "pending"
    [placed] = world.db.events(OrderPlaced)
    assert placed.vat_total == Decimal("0.00")
    assert placed.vat_exemption is not None
    assert placed.vat_exemption.category == "K"
    assert placed.vat_exemption.reason_code == "VATEX-EU-IC"
    assert placed.vat_exemption.reason == INTRA_COMMUNITY_NOTE
    assert placed.vat_exemption.vies_confirmation == "pending"


async def test_a_merchant_confirms_the_vat_id_by_hand_once(world: Any) -> None:
    order = await world.place(shipping_address=VIENNA, buyer_vat_id=AT_VAT_ID)
    world.clock.advance(timedelta(hours=1))
    confirmed = await confirm_vat_id(
        world.transactor, order.id, confirmed_by="m.mueller", reference="WAPI-1", clock=world.clock
    )
    check = confirmed.vat_id_check
    assert check is not None
    assert (check.vies, check.confirmed_by, check.reference) == ("confirmed", "m.mueller", "WAPI-1")
    assert check.confirmed_at == world.clock()
    assert world.order(order.id).timeline[-1].event == "vat_id_confirmed"
    world.clock.advance(timedelta(hours=1))
    again = await confirm_vat_id(
        world.transactor, order.id, confirmed_by="x", reference=None, clock=world.clock
    )
    assert again.vat_id_check == check
    assert [e.event for e in world.order(order.id).timeline].count("vat_id_confirmed") == 1


async def test_an_order_without_a_vat_id_has_nothing_to_confirm(world: Any) -> None:
    order = await world.place()
    with pytest.raises(Conflict):
        await confirm_vat_id(
            world.transactor, order.id, confirmed_by="m", reference=None, clock=world.clock
        )


async def test_a_german_business_pays_german_vat_priced_from_the_net(world: Any) -> None:
    order = await world.place(
        buyer_vat_id="DE136695976", billing_address=replace(VIENNA, country="DE")
    )
    assert order.vat_treatment == "domestic"
    assert order.price_basis == "net"
    assert order.vat_total == Decimal("4.75")  # 25.00 net x 19 %
    assert order.vat_note is None


# ------------------------------------------------------------------ shipping VAT


async def test_a_coffee_only_basket_pays_7_percent_on_shipping(world: Any) -> None:
    # issue 10 point 5: it was charged 19 %
    await world.product("COFFEE", "10.00", vat_rate="0.07")
    await world.shipping_method("standard", "4.90")
    order = await world.place(lines=[("COFFEE", 2)], shipping_method="standard")
    assert order.shipping is not None
    assert [(p.vat_rate, p.net, p.vat) for p in order.shipping.parts] == [
        (Decimal("0.07"), Decimal("4.90"), Decimal("0.34"))
    ]
    assert order.shipping.vat_rate == Decimal("0.07")
    assert order.shipping.gross == Decimal("5.24")
    [placed] = world.db.events(OrderPlaced)
    assert placed.shipping is not None and placed.shipping.vat == Decimal("0.34")


async def test_a_mixed_basket_splits_shipping_by_the_goods_net_per_rate(world: Any) -> None:
    await world.product("COFFEE", "10.00", vat_rate="0.07")
    await world.shipping_method("standard", "4.90")
    # goods net: TEE 3 x 10.00 = 30.00 at 19 %, COFFEE 10.00 at 7 %: shipping 3/4 : 1/4
    order = await world.place(lines=[("TEE", 3), ("COFFEE", 1)], shipping_method="standard")
    assert order.shipping is not None
    parts = [(p.vat_rate, p.net, p.vat) for p in order.shipping.parts]
    assert parts == [
        (Decimal("0.19"), Decimal("3.68"), Decimal("0.70")),  # 3.675 -> 3.68
        (Decimal("0.07"), Decimal("1.22"), Decimal("0.09")),
    ]
    assert sum(p.net for p in order.shipping.parts) == Decimal("4.90")
    assert order.shipping.vat == Decimal("0.79")
    rows = {row.vat_rate: row for row in order.vat_breakdown}
    assert rows[Decimal("0.19")].vat == Decimal("5.70") + Decimal("0.70")
    assert order.vat_total == sum(row.vat for row in order.vat_breakdown)
    assert order.gross_total == sum(row.gross for row in order.vat_breakdown)
