"""A read model is rebuilt from the topics: reset the projection, replay from earliest."""

from __future__ import annotations

from typing import Any

import pytest
from kontor_billing.application.invoicing import BillingPolicy
from kontor_billing.consumers.orders import invoicing
from kontor_contracts.events.billing import InvoiceIssued
from kontor_contracts.registry import REGISTRY
from kontor_contracts.samples import PRODUCT
from kontor_orders.consumers.catalog import catalog_projection
from kontor_servicekit.clock import utc_now
from kontor_servicekit.rebuild import GroupActive, NotRebuildable, rebuild_projection
from kontor_servicekit.replay import read_from_beginning, replay_into
from kontor_servicekit.testing import eventually, wait_for_assignment

from tests.integration.test_order_life import place, products_known

pytestmark = pytest.mark.integration


async def _read_model(orders: Any) -> dict[str, Any]:
    docs = await orders.kit.store.db["catalog_products"].find({}, {"as_of": 0}).to_list(None)
    return {d["_id"]: d for d in docs}


async def test_orders_catalog_read_model_is_rebuilt_from_the_topic(start_service: Any) -> None:
    skus = ["TEE-RED-M", "TEE-RED-L", "MUG-1"]
    async with start_service("catalog") as catalog:
        async with start_service("orders") as orders:
            await wait_for_assignment(orders)
            for sku in skus:
                response = await catalog.client.post("/products", json={**PRODUCT, "sku": sku})
                assert response.status_code == 201

            async def all_projected() -> dict[str, Any] | None:
                model = await _read_model(orders)
                return model if set(model) == set(skus) else None

            original = await eventually(all_projected, timeout=30)
            settings = orders.settings
            # Someone damages the read model (a bad migration, a manual edit).
            collection = orders.kit.store.db["catalog_products"]
            await collection.delete_one({"_id": "MUG-1"})
            await collection.update_one({"_id": "TEE-RED-M"}, {"$set": {"name": "kaputt"}})

        report = await rebuild_projection(settings, catalog_projection())
        assert report.dropped_collections == ("catalog_products",)
        assert report.inbox_entries_removed == 3
        assert report.partitions_reset == 6

        async with start_service("orders") as orders_again:
            rebuilt = await eventually(
                lambda: _equal_when_complete(orders_again, original), timeout=30
            )
            assert rebuilt == original


async def _equal_when_complete(orders: Any, original: dict[str, Any]) -> dict[str, Any] | None:
    model = await _read_model(orders)
    return model if model == original else None


async def test_rebuild_is_refused_while_the_service_consumes(start_service: Any) -> None:
    # On Tansu a group that was emptied after having two members cannot be joined
    # again (JoinGroup hangs), so this test ends with the group unused afterwards.
    async with start_service("catalog") as catalog, start_service("orders") as orders:
        await wait_for_assignment(orders)
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201
        await eventually(lambda: _read_model(orders), timeout=30)
        with pytest.raises(GroupActive):
            await rebuild_projection(orders.settings, catalog_projection())
        # nothing was dropped
        assert set(await _read_model(orders)) == {PRODUCT["sku"]}
        assert await orders.kit.store.db["inbox"].count_documents({}) == 1


async def test_a_subscription_with_side_effects_is_never_replayed(start_service: Any) -> None:
    async with start_service("billing") as billing:
        settings = billing.settings
    with pytest.raises(NotRebuildable):
        await rebuild_projection(settings, invoicing(utc_now, BillingPolicy()))


async def test_invoicing_is_replayed_into_a_scratch_database_and_nowhere_else(
    start_service: Any,
) -> None:
    """What a rebuild of billing's order read model would hold, without re-invoicing:
    the replay runs beside the live service and leaves its store, its group and the
    topics as they were (ADR 0146)."""
    async with (
        start_service("catalog") as catalog,
        start_service("orders") as orders,
        start_service("billing") as billing,
    ):
        for service in (catalog, orders, billing):
            await wait_for_assignment(service)
        assert (await catalog.client.post("/products", json=PRODUCT)).status_code == 201
        await products_known(orders, str(PRODUCT["sku"]))
        order = await place(orders, [{"sku": PRODUCT["sku"], "quantity": 1}])

        async def invoiced() -> Any:
            found = await billing.client.get("/invoices", params={"order_id": order["id"]})
            return found.json()["items"]

        [invoice] = await eventually(invoiced, timeout=60)
        live = billing.kit.store.db
        before = {n: await live[n].count_documents({}) for n in ("orders", "invoices", "outbox")}
        invoice_topic = billing.settings.topic(REGISTRY.topic_of(InvoiceIssued))
        published = len(await read_from_beginning(billing.settings, [invoice_topic]))
        scratch = f"{billing.settings.mongo_database}-replay"

        report = await replay_into(billing.kit.definition, ["invoicing"], scratch, collect=True)

        assert report.records["invoicing"] >= 2  # placed, confirmed
        assert report.not_replayed == {"invoicing": 0} and report.dead_lettered == {"invoicing": 0}
        [replayed] = report.documents["orders"]
        assert replayed["_id"] == order["id"]
        assert [i["order_id"] for i in report.documents["invoices"]] == [order["id"]]
        # the live store, the topic and the group are as they were; the scratch is gone
        after = {n: await live[n].count_documents({}) for n in ("orders", "invoices", "outbox")}
        assert after == before
        assert len(await read_from_beginning(billing.settings, [invoice_topic])) == published
        assert scratch not in await billing.kit.store.client.list_database_names()
        assert (await invoiced())[0]["number"] == invoice["number"]

    with pytest.raises(ValueError, match="own database"):
        await replay_into(billing.kit.definition, ["invoicing"], billing.settings.mongo_database)
