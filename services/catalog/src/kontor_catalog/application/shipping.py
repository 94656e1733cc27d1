"""Use cases of shipping methods; every change announces the method's full state."""

from __future__ import annotations

from dataclasses import replace

from kontor_contracts.events.catalog import ShippingMethodChanged, ShippingRate, ShippingZone
from kontor_servicekit.uow import Transactor

from kontor_catalog.application.unit_of_work import CatalogUnitOfWork
from kontor_catalog.domain.shipping import ShippingMethod, UnknownMethod


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


async def create_method(
    transactor: Transactor[CatalogUnitOfWork], method: ShippingMethod
) -> ShippingMethod:
    """Add a method (``MethodTaken`` if its id is) and announce it."""

    async def work(uow: CatalogUnitOfWork) -> ShippingMethod:
        await uow.shipping_methods.add(method)
        uow.emit(_changed(method), aggregate_id=method.method_id)
        return method

    return await transactor.run(work)


async def replace_method(
    transactor: Transactor[CatalogUnitOfWork], method: ShippingMethod
) -> ShippingMethod:
    """Replace a method's state and announce it; the same state again announces nothing."""

    async def work(uow: CatalogUnitOfWork) -> ShippingMethod:
        current = await _method(uow, method.method_id)
        if current != method:
            await uow.shipping_methods.replace(method)
            uow.emit(_changed(method), aggregate_id=method.method_id)
        return method

    return await transactor.run(work)


async def withdraw_method(
    transactor: Transactor[CatalogUnitOfWork], method_id: str
) -> ShippingMethod:
    """Stop offering a method: it stays, inactive, so orders see why it is gone."""

    async def work(uow: CatalogUnitOfWork) -> ShippingMethod:
        current = await _method(uow, method_id)
        if not current.active:
            return current
        withdrawn = replace(current, active=False)
        await uow.shipping_methods.replace(withdrawn)
        uow.emit(_changed(withdrawn), aggregate_id=method_id)
        return withdrawn

    return await transactor.run(work)


async def _method(uow: CatalogUnitOfWork, method_id: str) -> ShippingMethod:
    method = await uow.shipping_methods.get(method_id)
    if method is None:
        raise UnknownMethod(method_id)
    return method
