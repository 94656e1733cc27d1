"""Back in stock (issue 15, ``domain/stock_alerts.py``): the request and the notice.

:func:`ask_for_stock_alert` records the request and, in the same unit, subscribes the
person to ``back_in_stock`` (the confirmation mail when not confirmed yet).
:func:`on_stock_adjusted` is the handler of catalog's stock movements: pieces available
again queue one mail per waiting request of the article.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import StockAdjusted
from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_marketing.application.consent import ConsentLinks, Subscribe, request_consent
from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.domain.consent import normalise_email
from kontor_marketing.domain.flow_mails import back_in_stock_mail
from kontor_marketing.domain.links import flow_utm, with_utm
from kontor_marketing.domain.mail import flow_mail
from kontor_marketing.domain.stock_alerts import STOCK_FLOW, STOCK_TOPIC, StockAlert, back_again


@dataclass(frozen=True)
class StockNotices:
    """What a notice needs: the links, where the shop is, the imprint."""

    links: ConsentLinks | None
    shop_url: str
    imprint: str
    utm_source: str = "kontor"
    """The shop link carries ``utm_campaign=flow-back_in_stock`` (ADR 0121)."""


async def ask_for_stock_alert(
    transactor: Transactor[MarketingUnitOfWork],
    email: str,
    sku: str,
    *,
    locale: str,
    ip: str | None,
    links: ConsentLinks,
    imprint: str,
    clock: Clock,
) -> None:
    address = normalise_email(email)
    command = Subscribe(address, (STOCK_TOPIC,), locale, "back_in_stock_request", ip)

    async def work(uow: MarketingUnitOfWork) -> None:
        await request_consent(uow, command, address, links=links, imprint=imprint, clock=clock)
        await uow.stock_alerts.save(StockAlert(address, sku, clock()))

    await transactor.run(work)


async def on_stock_adjusted(
    event: StockAdjusted,
    uow: MarketingUnitOfWork,
    env: Envelope,
    *,
    notices: StockNotices,
    clock: Clock,
) -> int:
    if notices.links is None or not back_again(event.available, event.on_hand, event.delta):
        return 0
    now = clock()
    notified = 0
    for alert in await uow.stock_alerts.waiting_for(event.sku):
        if alert.requested_at > env.occurred_at:
            continue  # a movement from before the request (a replay) tells nothing new
        consent = await uow.consents.get(alert.email)
        mail = back_in_stock_mail(
            to=alert.email,
            locale=consent.locale if consent else "de",
            sku=event.sku,
            shop_url=with_utm(notices.shop_url, flow_utm(notices.utm_source, STOCK_FLOW)),
            unsubscribe_url=notices.links.unsubscribe_url(alert.email, (STOCK_TOPIC,)),
            imprint=notices.imprint,
        )
        await uow.mails.add(
            flow_mail(
                mail,
                mail_id=str(uuid.uuid4()),
                flow=STOCK_FLOW,
                topic=STOCK_TOPIC,
                now=now,
                sku=event.sku,
            )
        )
        alert.notified(now)
        await uow.stock_alerts.save(alert)
        notified += 1
    return notified
