"""Use cases of the assortment."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kontor_contracts.events.catalog import ProductCreated
from kontor_servicekit.clock import utc_now
from kontor_servicekit.store import Store, Transaction

from kontor_catalog.domain.product import Product
from kontor_catalog.domain.stock import DEFAULT_WAREHOUSE
from kontor_catalog.store.products import ProductRepository
from kontor_catalog.store.stock import StockRepository


@dataclass(frozen=True)
class CreateProduct:
    sku: str
    name: str
    price_net: Decimal
    currency: str
    vat_class: str
    stock: int
    description: str | None = None
    gtin: str | None = None


async def create_product(store: Store, command: CreateProduct) -> Product:
    """Add a product to the assortment and announce it (``ProductCreated``)."""
    product = Product.create(
        sku=command.sku,
        name=command.name,
        price_net=command.price_net,
        currency=command.currency,
        vat_class=command.vat_class,
        stock=command.stock,
        description=command.description,
        gtin=command.gtin,
        now=utc_now(),
    )

    async def work(tx: Transaction) -> Product:
        await ProductRepository(tx).add(product)
        # The legacy ``stock`` of a new product is on hand in the default warehouse.
        await StockRepository(tx).add_on_hand(product.sku, DEFAULT_WAREHOUSE, product.stock)
        tx.emit(
            ProductCreated(
                sku=product.sku,
                name=product.name,
                description=product.description,
                price_net=product.price_net,
                price_gross=product.price_gross,
                vat_class=product.vat_class,
                vat_rate=product.vat_rate,
                currency=product.currency,
                stock=product.stock,
                gtin=product.gtin,
            ),
            aggregate_id=product.sku,
        )
        return product

    return await store.transaction(work)
