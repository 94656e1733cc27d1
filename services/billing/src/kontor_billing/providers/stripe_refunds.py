"""``RefundProvider`` over a Stripe-shaped HTTP API: ``POST /v1/refunds``.

The request is Stripe's: form-encoded ``payment_intent`` and ``amount`` (in the
currency's minor unit, cents), the secret key as a bearer token and an
``Idempotency-Key`` header (the payout item's number), so a retry after a timeout or a
crash never refunds twice: the provider answers the first refund again. The answer's
``id`` and ``status`` (succeeded, pending, requires_action, failed, canceled) are kept.

- 2xx: the refund (``ProviderRefund``).
- 4xx other than 429 (Stripe's ``invalid_request_error``/``card_error``: already
  refunded, amount too large, unknown PaymentIntent, bad key): refused, with the
  provider's message; retrying cannot change it.
- 429, 5xx, a timeout or no connection: ``Unavailable``; the sweeper tries again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
from kontor_servicekit.domain_errors import Unavailable

from kontor_billing.application.payouts import ProviderRefund

ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK"})


def minor_units(amount: Decimal, currency: str) -> int:
    factor = 1 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 100
    value = amount * factor
    if value != value.to_integral_value():
        raise ValueError(f"{amount} {currency} has more decimals than the currency")
    return int(value)


class StripeRefunds:
    """The provider's refund call. ``base_url`` is ``https://api.stripe.com`` in
    production and a local fake in the tests."""

    def __init__(self, base_url: str, secret_key: str, *, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret_key = secret_key
        self.timeout_s = timeout_s

    async def refund(
        self, *, payment_intent: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> ProviderRefund:
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                answer = await client.post(
                    f"{self.base_url}/v1/refunds",
                    data={
                        "payment_intent": payment_intent,
                        "amount": str(minor_units(amount, currency)),
                    },
                    headers={
                        "Authorization": f"Bearer {self.secret_key}",
                        "Idempotency-Key": idempotency_key,
                    },
                )
        except httpx.HTTPError as exc:
            raise Unavailable(f"the refund provider cannot be reached: {exc!r}") from exc
        if answer.status_code == 429 or answer.status_code >= 500:
            raise Unavailable(f"the refund provider answered {answer.status_code}")
        body = _json(answer)
        if answer.is_success:
            refund_id, status = body.get("id"), body.get("status")
            if not isinstance(refund_id, str) or not isinstance(status, str):
                raise Unavailable("the refund provider's answer has no id and status")
            charge, created = body.get("charge"), body.get("created")
            return ProviderRefund(
                id=refund_id,
                status=status,
                charge=charge if isinstance(charge, str) else None,
                created=datetime.fromtimestamp(created, tz=UTC)
                if isinstance(created, int) and not isinstance(created, bool)
                else None,
            )
        found = body.get("error")
        error: dict[str, object] = found if isinstance(found, dict) else {}
        reason = error.get("message") or error.get("code") or f"HTTP {answer.status_code}"
        return ProviderRefund(id=None, status="refused", reason=str(reason))


def _json(answer: httpx.Response) -> dict[str, object]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
