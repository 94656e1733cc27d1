"""Coupon pools: N unique single-use codes of one definition, one handed to each
recipient of a campaign (issue 15, ADR 0118). Pure.

A :class:`CouponPool` holds the rules every code of it follows (a :class:`Coupon` as
``POST /coupons`` defines one, single-use: ADR 0050, 0057, 0116) and how many codes
were generated. Codes are the pool's prefix and two groups of four characters drawn with
``secrets`` from an alphabet without the characters people confuse (0/O, 1/I/L):
``WELCOME-7K3Q-9XPA``. A :class:`PoolCode` is assigned to one person for one campaign
when their mail is queued (:func:`code_for`: once per person and campaign), and redeemed
by the order that used it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kontor_servicekit.domain_errors import Conflict, Invalid

from kontor_marketing.domain.coupon import Coupon

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""No 0, O, 1, I or L: a code read out or typed from a mail is not misread."""
GROUPS, GROUP_LENGTH = 2, 4
SUFFIX_LENGTH = GROUPS * (GROUP_LENGTH + 1)
PREFIX = re.compile(rf"^[A-Z0-9][A-Z0-9_-]{{1,{31 - SUFFIX_LENGTH}}}$")
MAX_CODES = 2_000
"""Codes per pool: generated in one transaction, which must commit well inside the
database's 5 s transaction lifetime (ADR 0118: 2 000 took 1.6 s, 10 000 did not commit)."""
MAX_POOL = 100_000
"""Codes a pool may hold in all, grown by at most :data:`MAX_CODES` at a time."""
BATCH = 500
"""Codes per CouponCodesIssued (ADR 0118)."""
NO_CODE = "no_code_from"
"""The meta key of a campaign mail skipped at dispatch for want of a code: the pool."""


@dataclass
class CouponPool:
    id: str
    prefix: str
    count: int
    rules: Coupon
    """What each code takes off and when (single-use); its ``code`` is a sample."""
    created_at: datetime
    batches: int = 0
    """CouponCodesIssued announced so far (the next batch's number)."""

    @classmethod
    def define(
        cls,
        *,
        pool_id: str,
        prefix: str,
        count: int,
        percent: Decimal | None,
        value: Decimal | None,
        currency: str,
        now: datetime,
        minimum_order_value: Decimal | None = None,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        campaign_id: str | None = None,
        product_skus: tuple[str, ...] = (),
        category_ids: tuple[str, ...] = (),
    ) -> CouponPool:
        prefix = prefix.strip().upper()
        if not PREFIX.match(prefix):
            raise Invalid(
                f"a prefix is 2 to {32 - SUFFIX_LENGTH} letters, digits, '-' or '_', "
                "starting with a letter or digit",
                field=("prefix",),
            )
        _check_count(count)
        rules = Coupon.define(
            code=f"{prefix}-{'-'.join([ALPHABET[0] * GROUP_LENGTH] * GROUPS)}",
            percent=percent,
            value=value,
            currency=currency,
            now=now,
            minimum_order_value=minimum_order_value,
            valid_from=valid_from,
            valid_until=valid_until,
            single_use=True,
            campaign_id=campaign_id,
            product_skus=product_skus,
            category_ids=category_ids,
        )
        rules.pull_events()  # the pool announces its codes, not this sample
        return cls(id=pool_id, prefix=prefix, count=count, rules=rules, created_at=now)

    def generate(
        self, *, taken: Collection[str] = (), pick: Callable[[str], str] = secrets.choice
    ) -> list[str]:
        """``count`` distinct codes of the pool, none of them in ``taken``."""
        return generate_codes(self.prefix, self.count, taken=taken, pick=pick)

    def grow(self, more: int) -> None:
        """Make room for ``more`` codes (a pool a campaign used up is topped up)."""
        _check_count(more)
        if self.count + more > MAX_POOL:
            raise Invalid(f"a pool holds at most {MAX_POOL} codes", field=("count",))
        self.count += more

    def announced(self, batches: int) -> range:
        """Number the next ``batches`` CouponCodesIssued of the pool."""
        first, self.batches = self.batches, self.batches + batches
        return range(first, self.batches)


def _check_count(count: int) -> None:
    if not 1 <= count <= MAX_CODES:
        raise Invalid(f"count is 1 to {MAX_CODES} at a time", field=("count",))


def generate_codes(
    prefix: str,
    count: int,
    *,
    taken: Collection[str] = (),
    pick: Callable[[str], str] = secrets.choice,
) -> list[str]:
    """``count`` distinct codes ``PREFIX-XXXX-XXXX`` (31^8 possible suffixes), each drawn
    with ``pick`` from :data:`ALPHABET`, none of them in ``taken``."""
    codes: dict[str, None] = {}
    attempts = 0
    while len(codes) < count:
        attempts += 1
        if attempts > 10 * count + 100:
            raise Conflict(f"no {count} free codes with the prefix {prefix!r}")
        groups = ("".join(pick(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS))
        code = "-".join((prefix, *groups))
        if code not in taken:
            codes[code] = None
    return list(codes)


@dataclass
class PoolCode:
    code: str
    pool_id: str
    email: str | None = None
    """Whom it was handed to (None: free, or the person was erased)."""
    campaign_id: str | None = None
    assigned_at: datetime | None = None
    order_id: str | None = None
    redeemed_at: datetime | None = None

    @property
    def free(self) -> bool:
        return self.assigned_at is None

    def assign(self, email: str, campaign_id: str, now: datetime) -> None:
        if not self.free:
            raise Conflict(f"code {self.code} was handed out already")
        self.email, self.campaign_id, self.assigned_at = email, campaign_id, now

    def redeemed(self, order_id: str, at: datetime) -> bool:
        """The order used it; False when it was recorded already (a redelivery)."""
        if self.order_id is not None:
            return False
        self.order_id, self.redeemed_at = order_id, at
        return True


def code_for(
    held: PoolCode | None, free: PoolCode | None, *, email: str, campaign_id: str, now: datetime
) -> PoolCode | None:
    """The code ``email`` gets in ``campaign_id``'s mail: the one ``held`` from this
    campaign already (a person gets one code per campaign and pool), else the ``free``
    one, now assigned; None when the pool is exhausted (the person is skipped)."""
    if held is not None:
        return held
    if free is None:
        return None
    free.assign(email, campaign_id, now)
    return free


@dataclass(frozen=True)
class PoolCounts:
    generated: int
    assigned: int
    redeemed: int
