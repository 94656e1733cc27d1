"""Card/wallet refunds through ``StripeRefunds`` against a LOCAL FAKE of the provider's
HTTP API (``POST /v1/refunds``, a Starlette app served by uvicorn on 127.0.0.1 in the
test): the request's shape, the idempotency key, a refusal and an outage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_billing.application.payouts import execute_provider_refunds
from kontor_billing.domain.payouts import PayoutItem
from kontor_billing.providers.stripe_refunds import StripeRefunds
from kontor_billing.store.memory import InMemoryBillingUnitOfWork
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.domain_errors import Unavailable
from kontor_servicekit.fakes import FakeTransactor
from kontor_servicekit.testing import serving
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

pytestmark = pytest.mark.unit

SECRET = "sk_test_fake"
NOW = datetime(2026, 6, 1, 10, tzinfo=UTC)


@dataclass
class FakeProvider:
    """Stripe's refund endpoint as far as billing uses it."""

    charges: dict[str, int] = field(default_factory=dict)
    """PaymentIntent -> amount still refundable (cents)."""
    down: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def refunds(self, request: Request) -> JSONResponse:
        form = dict(await request.form())
        self.requests.append({"form": form, "headers": dict(request.headers)})
        if self.down:
            return JSONResponse({"error": {"type": "api_error"}}, status_code=503)
        if request.headers.get("authorization") != f"Bearer {SECRET}":
            return JSONResponse({"error": {"message": "Invalid API Key"}}, status_code=401)
        key = request.headers.get("idempotency-key", "")
        if key in self.by_key:
            return JSONResponse(self.by_key[key])
        intent, amount = str(form["payment_intent"]), int(str(form["amount"]))
        if amount > self.charges.get(intent, 0):
            return JSONResponse(
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "amount_too_large",
                        "message": f"Refund amount ({amount}) is greater than unrefunded "
                        f"amount on charge ({self.charges.get(intent, 0)})",
                    }
                },
                status_code=400,
            )
        self.charges[intent] -= amount
        refund = {
            "id": f"re_{len(self.by_key) + 1}",
            "object": "refund",
            "amount": amount,
            "currency": "eur",
            "payment_intent": intent,
            "status": "succeeded",
        }
        self.by_key[key] = refund
        return JSONResponse(refund)


@pytest.fixture
async def provider() -> AsyncIterator[tuple[FakeProvider, str]]:
    fake = FakeProvider()
    async with serving(
        Starlette(routes=[Route("/v1/refunds", fake.refunds, methods=["POST"])])
    ) as url:
        yield fake, url


def refund_item(n: int, amount: str, intent: str) -> PayoutItem:
    return PayoutItem(
        id=f"refund:KR-2026-00000{n}",
        number=f"AZ-2026-00000{n}",
        kind="refund",
        route="provider",
        source_id=f"KR-2026-00000{n}",
        source_number=f"KR-2026-00000{n}",
        amount=Decimal(amount),
        currency="EUR",
        created_at=NOW,
        status="pending",
        creditor_name="Anna Muster",
        remittance="Erstattung",
        order_id=f"o-{n}",
        provider_reference=intent,
    )


async def with_items(*items: PayoutItem) -> FakeTransactor[InMemoryBillingUnitOfWork]:
    transactor = FakeTransactor(InMemoryBillingUnitOfWork)
    for item in items:
        await transactor.run(lambda uow, i=item: uow.payouts.add(i))
    return transactor


def stored(transactor: FakeTransactor[InMemoryBillingUnitOfWork]) -> dict[str, PayoutItem]:
    return {i.number: i for i in transactor.db.rows("payout_items")}


async def test_a_refund_is_posted_in_stripes_shape_and_settled(
    provider: tuple[FakeProvider, str],
) -> None:
    fake, url = provider
    fake.charges["pi_1"] = 10_000
    transactor = await with_items(refund_item(1, "23.79", "pi_1"))
    done = await execute_provider_refunds(
        transactor, StripeRefunds(url, SECRET), clock=FakeClock(NOW)
    )
    assert done.settled == ["AZ-2026-000001"]
    [request] = fake.requests
    assert request["form"] == {"payment_intent": "pi_1", "amount": "2379"}
    assert request["headers"]["idempotency-key"] == "AZ-2026-000001"
    assert request["headers"]["content-type"] == "application/x-www-form-urlencoded"
    item = stored(transactor)["AZ-2026-000001"]
    assert (item.status, item.provider_refund_id) == ("settled", "re_1")
    assert fake.charges["pi_1"] == 10_000 - 2379
    # a settled item is never sent again
    await execute_provider_refunds(transactor, StripeRefunds(url, SECRET), clock=FakeClock(NOW))
    assert len(fake.requests) == 1


async def test_a_retry_with_the_same_key_refunds_once(provider: tuple[FakeProvider, str]) -> None:
    fake, url = provider
    fake.charges["pi_1"] = 2379
    client = StripeRefunds(url, SECRET)
    first = await client.refund(
        payment_intent="pi_1", amount=Decimal("23.79"), currency="EUR", idempotency_key="AZ-1"
    )
    again = await client.refund(
        payment_intent="pi_1", amount=Decimal("23.79"), currency="EUR", idempotency_key="AZ-1"
    )
    assert first == again
    assert fake.charges["pi_1"] == 0


async def test_a_refused_refund_fails_with_the_providers_reason_and_an_outage_waits(
    provider: tuple[FakeProvider, str],
) -> None:
    fake, url = provider
    fake.charges["pi_2"] = 1_000
    transactor = await with_items(refund_item(2, "50.00", "pi_2"))
    done = await execute_provider_refunds(
        transactor, StripeRefunds(url, SECRET), clock=FakeClock(NOW)
    )
    assert done.failed == ["AZ-2026-000002"]
    item = stored(transactor)["AZ-2026-000002"]
    assert item.status == "failed"
    assert item.failure is not None and "greater than unrefunded amount" in item.failure

    fake.down = True
    transactor = await with_items(refund_item(3, "5.00", "pi_2"))
    with pytest.raises(Unavailable, match="503"):
        await execute_provider_refunds(transactor, StripeRefunds(url, SECRET), clock=FakeClock(NOW))
    assert stored(transactor)["AZ-2026-000003"].status == "pending"  # tried again next round
    fake.down = False
    await execute_provider_refunds(transactor, StripeRefunds(url, SECRET), clock=FakeClock(NOW))
    assert stored(transactor)["AZ-2026-000003"].status == "settled"


async def test_no_provider_answering_at_all_is_an_outage() -> None:
    client = StripeRefunds("http://127.0.0.1:9", SECRET, timeout_s=1)
    with pytest.raises(Unavailable, match="cannot be reached"):
        await client.refund(
            payment_intent="pi_1", amount=Decimal("1.00"), currency="EUR", idempotency_key="k"
        )
