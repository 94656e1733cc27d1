"""What the routes show of a person billing erased (issue 13, ADR 0037, 0075).

Billing keeps the person's tax records and bookings as they are; to a caller without
``billing:tax`` a JSON answer shows placeholders where the person's name, e-mail,
street, company, VAT id, IBAN or remittance text would be, with ``restricted: true``,
and a file that prints them (a PDF, a bank statement, a pain.001, a DATEV batch) is a
403 naming the scope. Which records are restricted: ``store/erased_buyers.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable
from datetime import datetime
from typing import TypeVar

from kontor_contracts.personal import PLACEHOLDER_DOMAIN
from kontor_servicekit.auth import BILLING_TAX_SCOPE as TAX_SCOPE
from kontor_servicekit.auth import Principal
from kontor_servicekit.errors import Forbidden

from kontor_billing.context import Context

K = TypeVar("K")


def pseudonymous_email(subject_id: str) -> str:
    """The e-mail shown instead of an erased person's: the one orders gives them."""
    return f"p-{subject_id.removeprefix('subj_')}@{PLACEHOLDER_DOMAIN}"


async def hidden(principal: Principal, find: Callable[[], Awaitable[dict[K, str]]]) -> dict[K, str]:
    """What ``find`` answers (key -> erased subject) for a caller who may not see those
    people; nothing (and no query) for a holder of ``billing:tax``."""
    return {} if principal.has_scope(TAX_SCOPE) else await find()


async def hidden_numbers(
    ctx: Context, principal: Principal, numbers: Iterable[str | None]
) -> dict[str, str]:
    """document number -> erased subject, for the restricted documents among ``numbers``
    that ``principal`` may see only without the person."""
    return await hidden(principal, lambda: ctx.erased.restricted_numbers(numbers))


async def erased_since(ctx: Context, principal: Principal, email: str | None) -> datetime | None:
    """A search by ``email`` for a person who was erased, by a caller without
    ``billing:tax``: the erasure, so that the search finds only what was made after it
    (their restricted records, found by their address, would say whose they are)."""
    if email is None or principal.has_scope(TAX_SCOPE):
        return None
    return await ctx.erased.erased_at(email)


async def forbid_unless_tax(
    principal: Principal, restricted: Callable[[], Awaitable[bool]], what: str
) -> None:
    """A file that prints an erased person's data: ``billing:tax`` only."""
    if not principal.has_scope(TAX_SCOPE) and await restricted():
        raise Forbidden(
            f"{what} names a person who was erased: it is kept as a tax record "
            f"(§147 AO) and shown with the scope {TAX_SCOPE!r} only.",
            extra={"required_scope": TAX_SCOPE},
        )


async def any_of(found: Awaitable[Collection[object]]) -> bool:
    """Whether ``found`` (restricted records) is not empty: for ``forbid_unless_tax``."""
    return bool(await found)
