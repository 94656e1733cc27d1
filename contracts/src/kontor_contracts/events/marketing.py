"""Events owned by the marketing service: campaigns, coupons and consent."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from ..envelope import Event
from ..money import Amount, Currency
from .common import Email, Id

__all__ = ["CampaignScheduled", "CampaignSent", "ConsentChanged", "CouponRedeemed"]


# --- marketing.campaign.v1 (key: campaign_id) --------------------------------------


class CampaignScheduled(Event):
    """A campaign was planned for a date and an audience."""

    event_type = "CampaignScheduled"

    campaign_id: Id
    name: str = Field(min_length=1)
    channel: str = Field(min_length=1, description="e.g. email, newsletter, social, ads")
    scheduled_for: AwareDatetime
    audience: str = Field(min_length=1, description="Segment name, e.g. 'Stammkunden DE'")
    audience_size: int | None = Field(default=None, ge=0)
    coupon_code: str | None = None
    subject: str | None = None


class CampaignSent(Event):
    """A campaign went out."""

    event_type = "CampaignSent"

    campaign_id: Id
    recipients: int = Field(ge=0)
    sent_at: AwareDatetime
    channel: str | None = None


# --- marketing.coupon.v1 (key: code) -----------------------------------------------


class CouponRedeemed(Event):
    """A coupon was used on an order."""

    event_type = "CouponRedeemed"

    code: str = Field(min_length=1)
    order_id: Id
    discount: Amount = Field(description="Gross discount granted on the order")
    currency: Currency
    campaign_id: Id | None = None
    customer_email: Email | None = None
    redeemed_at: AwareDatetime | None = None


# --- marketing.consent.v1 (key: email) ---------------------------------------------


class ConsentChanged(Event):
    """A person granted or withdrew consent to advertising on a channel (§7 UWG, Art. 7 DSGVO).

    Every consumer that contacts customers for advertising must honour the latest
    ``granted`` per (email, channel).
    """

    event_type = "ConsentChanged"

    email: Email
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
