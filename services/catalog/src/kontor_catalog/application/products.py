"""Use cases of the assortment."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kontor_contracts.events.catalog import ProductCreated, ProductPriceChanged
from kontor_servicekit.clock import utc_now
from kontor_servicekit.store import Store, Transaction

from kontor_catalog.domain.pricing import PricePoint, check_content, check_price
from kontor_catalog.domain.product import VAT_RATES, Product
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
    content_quantity: Decimal | None = None
    content_unit: str | None = None


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
        content_quantity=command.content_quantity,
        content_unit=command.content_unit,
        now=utc_now(),
    )
    if product.content_quantity is not None and product.content_unit is not None:
        check_content(product.content_quantity, product.content_unit)

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


@dataclass(frozen=True)
class ChangePrice:
    sku: str
    price_net: Decimal
    vat_class: str


class UnknownSku(LookupError):
    def __init__(self, sku: str) -> None:
        super().__init__(f"no product with SKU {sku!r}")
        self.sku = sku


async def change_price(store: Store, command: ChangePrice) -> bool:
    """Set a new net price and/or VAT class (``ProductPriceChanged``); False if unchanged.

    Every price is kept in the history: the §11 PAngV reference price is computed from it.
    """
    check_price(command.price_net, command.vat_class)

    async def work(tx: Transaction) -> bool:
        products = ProductRepository(tx)
        product = await products.get(command.sku)
        if product is None:
            raise UnknownSku(command.sku)
        if product.price_net == command.price_net and product.vat_class == command.vat_class:
            return False
        point = PricePoint(utc_now(), command.price_net, command.vat_class)
        await products.set_price(product, point)
        tx.emit(
            ProductPriceChanged(
                sku=product.sku,
                old_price_net=product.price_net,
                new_price_net=point.net,
                price_gross=point.gross,
                vat_class=point.vat_class,
                vat_rate=VAT_RATES[point.vat_class],
                currency=product.currency,
                effective_at=point.effective_at,
                old_price_gross=product.price_gross,
            ),
            aggregate_id=product.sku,
        )
        return True

    return await store.transaction(work)
