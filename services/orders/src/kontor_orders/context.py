"""The orders service's container: what its routes are built with (see ``main.py``).

``clock`` is asked on every request and by the cart sweeper, so a test that
replaces it moves "now" for every use case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends
from kontor_servicekit.clock import Clock
from kontor_servicekit.context import context_dependency
from kontor_servicekit.idempotency import Answers
from kontor_servicekit.ratelimit import RateLimiter
from kontor_servicekit.uow import Transactor

from kontor_orders.application.privacy import PrivacyDesk
from kontor_orders.application.privacy_links import PublicRequests
from kontor_orders.application.unit_of_work import OrderNumbers, OrdersUnitOfWork
from kontor_orders.store.photos import ComplaintPhotos
from kontor_orders.store.queries import CartQueries, ComplaintQueries, OrderQueries, ReturnQueries


@dataclass
class OrdersContext:
    transactor: Transactor[OrdersUnitOfWork]
    numbers: OrderNumbers
    clock: Clock
    orders: OrderQueries
    carts: CartQueries
    returns: ReturnQueries
    complaints: ComplaintQueries
    photos: ComplaintPhotos
    withdrawal_limiter: RateLimiter
    answers: Answers
    """Create routes: the answer built before the commit, and Idempotency-Key."""
    price_lock: timedelta = timedelta(minutes=30)
    """How long checkout fixes a cart's prices (``checkout_price_lock_s``)."""
    oss_opt_in: bool = False
    """The merchant opted in to the One-Stop-Shop: every distance sale to a consumer
    abroad carries the destination's rates from the first euro (ADR 0026)."""
    privacy: PrivacyDesk | None = None
    """Privacy requests (issue 13): the key store, the expected services."""
    public_privacy: PublicRequests | None = None
    """A customer's own requests by mailed link (None without a privacy master key)."""
    privacy_limiter: RateLimiter | None = None
    """Public privacy requests per client address and minute."""


Context = Annotated[OrdersContext, Depends(context_dependency(OrdersContext))]
