"""A service's typed container: what its routes need, built once in ``main.py``.

Instead of hanging loose attributes on ``app.state``, a service defines one
dataclass (its transactor, its queries, its clock, ...), builds it in its
composition root and attaches it; routes get it typed through a dependency::

    @dataclass
    class BillingContext:
        queries: InvoiceQueries
        clock: Clock

    app = create_service_app(definition)
    attach_context(app, BillingContext(queries=..., clock=utc_now))

    Context = Annotated[BillingContext, Depends(context_dependency(BillingContext))]

    @router.get("/invoices")
    async def list_invoices(ctx: Context) -> ...: ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request

__all__ = ["CONTEXT_ATTRIBUTE", "attach_context", "context_dependency", "context_of"]

T = TypeVar("T")

CONTEXT_ATTRIBUTE = "service_context"


def attach_context(app: FastAPI, context: object) -> None:
    """Make ``context`` the service's container (one per app)."""
    setattr(app.state, CONTEXT_ATTRIBUTE, context)


def context_of(app: FastAPI, kind: type[T]) -> T:
    """The container attached to ``app``, checked to be a ``kind``."""
    context: Any = getattr(app.state, CONTEXT_ATTRIBUTE, None)
    if context is None:
        raise RuntimeError(
            f"no service context attached: attach_context(app, {kind.__name__}(...))"
        )
    if not isinstance(context, kind):
        raise RuntimeError(
            f"the service context is a {type(context).__name__}, not a {kind.__name__}"
        )
    return context


def context_dependency(kind: type[T]) -> Callable[[Request], T]:
    """A FastAPI dependency that hands a route the service's ``kind`` container."""

    def dependency(request: Request) -> T:
        return context_of(request.app, kind)

    dependency.__name__ = f"context[{kind.__name__}]"
    return dependency
