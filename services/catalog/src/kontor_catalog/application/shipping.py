"""Use cases of shipping methods; every change announces the method's full state."""

from __future__ import annotations

from dataclasses import replace

from kontor_contracts.events.catalog import ShippingMethodChanged, ShippingRate, ShippingZone
from kontor_servicekit.store import Store, Transaction

from kontor_catalog.domain.shipping import ShippingMethod
from kontor_catalog.store.shipping import ShippingRepository


class UnknownMethod(LookupError):
    pass


def _changed(method: ShippingMethod) -> ShippingMethodChanged:
    return ShippingMethodChanged(
        method_id=method.method_id,
        name=method.name,
        carrier=method.carrier,
        basis=method.basis,
        zones=[
            ShippingZone(zone_id=z.zone_id, name=z.name, countries=list(z.countries))
            for z in method.zones
        ],
        rates=[
            ShippingRate(
                zone_id=r.zone_id,
                max_weight_grams=r.max_weight_grams,
                max_value=r.max_value,
                price_net=r.price_net,
            )
            for r in method.rates
        ],
        free_from=method.free_from,
        currency=method.currency,
        vat_rate=method.vat_rate,
        active=method.active,
    )


async def create_method(store: Store, method: ShippingMethod) -> ShippingMethod:
    async def work(tx: Transaction) -> ShippingMethod:
        await ShippingRepository(tx).add(method)
        tx.emit(_changed(method), aggregate_id=method.method_id)
        return method

    return await store.transaction(work)


async def replace_method(store: Store, method: ShippingMethod) -> bool:
    """Replace a method's state; False (and no event) if nothing changed."""

    async def work(tx: Transaction) -> bool:
        methods = ShippingRepository(tx)
        current = await methods.get(method.method_id)
        if current is None:
            raise UnknownMethod(method.method_id)
        if current == method:
            return False
        await methods.replace(method)
        tx.emit(_changed(method), aggregate_id=method.method_id)
        return True

    return await store.transaction(work)


async def withdraw_method(store: Store, method_id: str) -> ShippingMethod:
    """Stop offering a method: it stays, inactive, so orders see why it is gone."""

    async def work(tx: Transaction) -> ShippingMethod:
        methods = ShippingRepository(tx)
        current = await methods.get(method_id)
        if current is None:
            raise UnknownMethod(method_id)
        if not current.active:
            return current
        withdrawn = replace(current, active=False)
        await methods.replace(withdrawn)
        tx.emit(_changed(withdrawn), aggregate_id=method_id)
        return withdrawn

    return await store.transaction(work)
