"""Events owned by the marketing service: campaigns, coupons and consent."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from ..envelope import ContractModel, Event
from ..money import Amount, Currency
from ..personal import NotPersonal, Personal
from .common import Email, Id, Sku

__all__ = [
    "CampaignScheduled",
    "CampaignSent",
    "ConsentChanged",
    "CouponCodesIssued",
    "CouponDefined",
    "CouponRedeemed",
    "CouponWithdrawn",
]


# --- marketing.campaign.v1 (key: campaign_id) --------------------------------------


class CampaignScheduled(Event):
    """A campaign was planned for a date and an audience."""

    event_type = "CampaignScheduled"

    campaign_id: Id
    name: Annotated[str, NotPersonal("the campaign's name")] = Field(min_length=1)
    channel: str = Field(min_length=1, description="e.g. email, newsletter, social, ads")
    scheduled_for: AwareDatetime
    audience: str = Field(min_length=1, description="Segment name, e.g. 'Stammkunden DE'")
    audience_size: int | None = Field(default=None, ge=0)
    coupon_code: str | None = None
    subject: Annotated[str | None, NotPersonal("the campaign mail's subject line")] = None
    cost: Amount | None = Field(
        default=None, description="What the campaign costs (its ROI's denominator); None: unknown"
    )
    currency: Currency = Field(default="EUR", description="The cost's currency")


class CampaignSent(Event):
    """A campaign went out."""

    event_type = "CampaignSent"

    campaign_id: Id
    recipients: int = Field(ge=0)
    sent_at: AwareDatetime
    channel: str | None = None


# --- marketing.coupon.v1 (key: code) -----------------------------------------------

#: A catalog category's id, as the catalog names it (``t-shirts``).
CategoryId = Annotated[str, StringConstraints(min_length=1, max_length=64)]

#: A coupon code as events carry it: upper case, 3 to 32 characters.
CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{2,31}$"


class CouponRules(ContractModel):
    """What a coupon takes off and when it applies (a code's and a pool's codes')."""

    kind: Literal["percent", "value"]
    percent: Amount | None = Field(
        default=None, description="For kind percent (0 < p <= 100): off the goods' gross"
    )
    value: Amount | None = Field(
        default=None, description="For kind value: gross amount off the goods (at most them)"
    )
    currency: Currency = "EUR"
    minimum_order_value: Amount | None = Field(
        default=None, description="Gross goods value the order must reach"
    )
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = Field(default=None, description="Exclusive")
    product_skus: list[Sku] | None = Field(
        default=None,
        max_length=500,
        description="Only lines of these SKUs (a parent's SKU: all its variants) are "
        "discounted; None or empty with no category_ids: every line (ADR 0116)",
    )
    category_ids: list[CategoryId] | None = Field(
        default=None,
        max_length=100,
        description="Only lines of products in these catalog categories are discounted "
        "(a line is eligible when it matches product_skus or category_ids; ADR 0116)",
    )

    @model_validator(mode="after")
    def _amount_of_its_kind(self) -> CouponRules:
        if (self.kind == "percent") != (self.percent is not None) or (self.kind == "value") != (
            self.value is not None
        ):
            raise ValueError("a percent coupon has percent, a value coupon has value")
        if self.percent is not None and not Decimal(0) < self.percent <= Decimal(100):
            raise ValueError("percent must be above 0 and at most 100")
        return self


class CouponDefined(Event, CouponRules):
    """A coupon code customers may give at checkout (its whole state: the newest wins).

    Marketing publishes it (ADR 0050); orders applies it from its read model at
    placement and counts the uses of a code with limits there (ADR 0057).
    """

    event_type = "CouponDefined"

    code: str = Field(pattern=CODE_PATTERN, description="Upper case")
    single_use: bool = Field(default=False, description="True: one order may use it, once")
    campaign_id: Id | None = None
    uses_per_customer: int | None = Field(
        default=None, ge=1, description="How many orders of one customer may use it; None: any"
    )
    max_redemptions: int | None = Field(
        default=None, ge=1, description="How many orders in all may use it; None: any"
    )


class CouponCodesIssued(Event, CouponRules):
    """A batch of a pool's unique codes (key: the pool id; ADR 0118).

    Each code is a single-use coupon of the rules given here; a pool of N codes is
    announced in batches of at most 500. Orders keeps each code in its coupon read model
    and redeems it once, as any single-use code.
    """

    event_type = "CouponCodesIssued"

    pool_id: Id
    codes: list[Annotated[str, StringConstraints(pattern=CODE_PATTERN)]] = Field(
        min_length=1, max_length=500, description="Upper case, each a single-use code"
    )
    batch: int = Field(ge=0, description="The batch's number within the pool, from 0")


class CouponWithdrawn(Event):
    """The coupon may no longer be used (orders placed with it keep their discount)."""

    event_type = "CouponWithdrawn"

    code: str = Field(min_length=1)
    withdrawn_at: AwareDatetime | None = None


class CouponRedeemed(Event):
    """A coupon was used on an order."""

    event_type = "CouponRedeemed"

    code: str = Field(min_length=1)
    order_id: Id
    discount: Amount = Field(description="Gross discount granted on the order")
    currency: Currency
    campaign_id: Id | None = None
    customer_email: Annotated[Email | None, Personal("email")] = None
    redeemed_at: AwareDatetime | None = None


# --- marketing.consent.v2 (key: subject_id) ----------------------------------------


class ConsentChanged(Event):
    """A person granted or withdrew consent to advertising on a channel (§7 UWG, Art. 7 DSGVO).

    Every consumer that contacts customers for advertising must honour the latest
    ``granted`` per (person, channel): per ``subject_id``, the Kafka key.

    v2 (ADR 0056): keyed by the person's pseudonymous subject id instead of the e-mail,
    which v1 carried in clear as the Kafka key and the envelope's aggregate id, where no
    erasure reached it. The e-mail stays in the payload, sealed like all personal data.
    """

    event_type = "ConsentChanged"
    event_version = 2

    subject_id: Annotated[
        str, NotPersonal("the person's keyed pseudonym (ADR 0034), the same in every service")
    ] = Field(pattern=r"^subj_[0-9a-f]{32}$")
    email: Annotated[Email, Personal("email")]
    channel: Literal["email", "sms", "phone", "post"]
    granted: bool
    source: str = Field(
        min_length=1, description="e.g. checkout, newsletter_form, unsubscribe_link, support"
    )
    changed_at: AwareDatetime
    customer_id: Id | None = None
    double_opt_in_at: AwareDatetime | None = Field(
        default=None, description="When the double opt-in was confirmed (email consent)"
    )
    topics: list[str] | None = Field(
        default=None,
        max_length=20,
        description="The newsletter topics consented to after this change (e.g. news, "
        "offers); granted is true while any is. None: the channel as a whole",
    )
