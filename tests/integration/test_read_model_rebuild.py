"""A read model is rebuilt from the topics: reset the projection, replay from earliest."""

from __future__ import annotations

from typing import Any

import pytest
from kontor_billing.application.invoicing import BillingPolicy
from kontor_billing.consumers.orders import invoicing
from kontor_contracts.samples import PRODUCT
from kontor_orders.consumers.catalog import catalog_projection
from kontor_servicekit.clock import utc_now
from kontor_servicekit.rebuild import GroupActive, NotRebuildable, rebuild_projection
from kontor_servicekit.testing import eventually, wait_for_assignment

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
