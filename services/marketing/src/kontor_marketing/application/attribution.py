"""Revenue attributed to campaigns, net of later cancellations and returns.

Runs in the unit of the profile's handler (``application/profiles.py``): an order
placed with a campaign's coupon (or a coupon pool's code its mail handed out, ADR 0118),
or within the window after a click in a campaign's
mail, becomes the campaign's :class:`Conversion`; its cancellation or return follows it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from kontor_contracts.events.orders import OrderPlaced

from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.domain.results import Conversion


async def attribute(
    uow: MarketingUnitOfWork, event: OrderPlaced, email: str, window: timedelta
) -> Conversion | None:
    if await uow.conversions.get(event.order_id) is not None:
        return None
    campaign_id, by = None, ""
    for code in event.coupon_codes:
        campaign = await uow.campaigns.by_coupon(code)
        if campaign is not None:
            campaign_id, by = campaign.id, "coupon"
            break
        handed = await uow.pool_codes.get(code)  # a pool's code, handed out in a campaign mail
        if handed is not None and handed.campaign_id is not None:
            campaign_id, by = handed.campaign_id, "coupon"
            break
    if campaign_id is None:
        click = await uow.engagements.last_click(email, event.placed_at - window, event.placed_at)
        if click is not None:
            campaign_id, by = click.campaign_id, "click"
    if campaign_id is None:
        return None
    conversion = Conversion(
        order_id=event.order_id,
        campaign_id=campaign_id,
        email=email,
        gross=event.gross_total,
        at=event.placed_at,
        by=by,
    )
    await uow.conversions.save(conversion)
    return conversion


async def order_cancelled(uow: MarketingUnitOfWork, order_id: str) -> None:
    conversion = await uow.conversions.get(order_id)
    if conversion is not None:
        conversion.cancelled = True
        await uow.conversions.save(conversion)


async def order_refunded(uow: MarketingUnitOfWork, order_id: str, amount: Decimal) -> None:
    conversion = await uow.conversions.get(order_id)
    if conversion is not None:
        conversion.refunded += amount
        await uow.conversions.save(conversion)
