"""The update routes render their answer inside the unit of work (issue 9): an answer
that cannot be built rolls the change back, so no 500 ever follows a committed write."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from kontor_catalog.api import products as products_api
from kontor_catalog.api.products import DiscontinueIn, PriceChangeIn, ProductOut, ProductPatch
from kontor_catalog.domain.product_view import ProductView
from kontor_catalog.store.memory import InMemoryCatalogUnitOfWork
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.fakes import FakeTransactor
from kontor_servicekit.idempotency import Answers

pytestmark = pytest.mark.unit

Catalog = FakeTransactor[InMemoryCatalogUnitOfWork]


class AnswerRefused(Exception):
    pass


def _refuse(cls: type[ProductOut], view: ProductView) -> ProductOut:
    raise AnswerRefused(view.product.sku)


async def _stored(catalog: Catalog, sku: str) -> Any:
    async def read(uow: InMemoryCatalogUnitOfWork) -> Any:
        return await uow.products.get(sku)

    return await catalog.run(read)


async def test_an_answer_that_cannot_be_built_leaves_the_product_as_it_was(
    catalog: Catalog,
    clock: FakeClock,
    add_product: Callable[..., Awaitable[ProductView]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await add_product("TEE-RED-M")
    ctx = SimpleNamespace(transactor=catalog, clock=clock, answers=Answers(store=None))  # type: ignore[arg-type]
    before = await _stored(catalog, "TEE-RED-M")
    commits = catalog.db.commits
    monkeypatch.setattr(ProductOut, "of", classmethod(_refuse))
    changes: list[Callable[[], Awaitable[object]]] = [
        lambda: products_api.put_price(ctx, "TEE-RED-M", PriceChangeIn(net=Decimal("9.99"))),
        lambda: products_api.patch_product(ctx, "TEE-RED-M", ProductPatch(name="Neu")),
        lambda: products_api.post_discontinue(ctx, "TEE-RED-M", DiscontinueIn(reason="eol")),
    ]
    for change in changes:
        with pytest.raises(AnswerRefused):
            await change()
    after = await _stored(catalog, "TEE-RED-M")
    assert (after.name, after.price_net, after.discontinued) == (
        before.name,
        before.price_net,
        before.discontinued,
    )
    assert catalog.db.commits == commits + 1  # the read above, nothing else
    monkeypatch.undo()
    answered = await products_api.put_price(ctx, "TEE-RED-M", PriceChangeIn(net=Decimal("9.99")))
    assert answered.status_code == 200
    assert (await _stored(catalog, "TEE-RED-M")).price_net == Decimal("9.99")
