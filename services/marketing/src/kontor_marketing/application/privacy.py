"""Marketing as a privacy participant (issue 13, ADR 0035; ADR 0052).

- **Export**: the person's consent per topic with its whole evidence (what they agreed
  to, when, the truncated IP), the mails queued or sent to them (subjects, states), their
  opens, clicks and unsubscribes, the orders attributed to a campaign, the profile's
  figures, a suppression and back-in-stock requests.
- **Erasure**: the consent record, the mails and a suppression (ADR 0055) are deleted.
  No consent is left, so no campaign can reach the address afterwards (sending checks
  consent when a mail leaves); the proof of past consent goes with it: the person asked
  for erasure, and without further sends nothing needs proving (ADR 0052).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kontor_contracts.events.orders import ErasedItem
from kontor_servicekit.privacy.participant import ErasureSummary, Subject

from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.domain.consent import normalise_email


def _jsonable(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, int | bool | str | None) else str(v) for k, v in figures.items()}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


class MarketingPrivacy:
    async def export(self, subject: Subject, uow: MarketingUnitOfWork) -> dict[str, Any]:
        email = normalise_email(subject.email)
        consent = await uow.consents.get(email)
        profile = await uow.profiles.get(email)
        suppression = await uow.suppressions.get(email)
        alerts = await uow.stock_alerts.of(email)
        codes = await uow.pool_codes.of(email)
        mails = await uow.mails.to(email)
        engagements = await uow.engagements.all_of(email)
        conversions = await uow.conversions.of(email)
        part: dict[str, Any] = {
            "coupon_codes": [
                {
                    "code": c.code,
                    "campaign_id": c.campaign_id,
                    "assigned_at": _iso(c.assigned_at),
                    "order_id": c.order_id,
                }
                for c in codes
            ],
            "back_in_stock_requests": [
                {"sku": a.sku, "requested_at": _iso(a.requested_at), "status": a.status}
                for a in alerts
            ],
            "mails": [
                {
                    "kind": m.kind,
                    "subject": m.mail.subject,
                    "topic": m.topic,
                    "campaign_id": m.campaign_id,
                    "status": m.status,
                    "created_at": _iso(m.created_at),
                    "sent_at": _iso(m.sent_at),
                }
                for m in mails
            ],
            "engagements": [
                {
                    "kind": e.kind,
                    "campaign_id": e.campaign_id,
                    "at": _iso(e.at),
                    "url": e.url,
                    "variant": e.variant,
                }
                for e in engagements
            ],
            "attributed_orders": [
                {
                    "order_id": c.order_id,
                    "campaign_id": c.campaign_id,
                    "by": c.by,
                    "gross": str(c.gross),
                    "at": _iso(c.at),
                }
                for c in conversions
            ],
            "profile": None if profile is None else _jsonable(profile.figures(datetime.now(UTC))),
            "suppression": None
            if suppression is None
            else {
                "reason": suppression.reason,
                "at": _iso(suppression.at),
                "status": suppression.status,
            },
        }
        if consent is None:
            return {**part, "consent": None}
        return {
            **part,
            "consent": {
                "email": consent.email,
                "status": consent.status,
                "locale": consent.locale,
                "topics": {
                    name: {
                        "status": t.status,
                        "requested_at": _iso(t.requested_at),
                        "confirmed_at": _iso(t.confirmed_at),
                        "unsubscribed_at": _iso(t.unsubscribed_at),
                    }
                    for name, t in consent.topics.items()
                },
                "evidence": [
                    {
                        "kind": e.kind,
                        "at": _iso(e.at),
                        "topics": list(e.topics),
                        "source": e.source,
                        "ip": e.ip,
                        "text": e.text,
                        "text_version": e.text_version,
                    }
                    for e in consent.evidence
                ],
            },
        }

    async def erase(
        self, subject: Subject, uow: MarketingUnitOfWork, now: datetime
    ) -> ErasureSummary:
        email = normalise_email(subject.email)
        consents = 1 if await uow.consents.delete(email) else 0
        mails = await uow.mails.delete_to(email)
        profiles = 1 if await uow.profiles.delete(email) else 0
        engagements = await uow.engagements.delete_of(email)
        engagements += await uow.conversions.delete_of(email)
        suppressions = 1 if await uow.suppressions.delete(email) else 0
        mails += await uow.segment_entries.delete_of(email)
        alerts = await uow.stock_alerts.delete_of(email)
        codes = await uow.pool_codes.forget(email)  # handed out: they stay, without the address
        return ErasureSummary(
            deleted=[
                ErasedItem(what="consents", count=consents),
                ErasedItem(what="mails", count=mails),
                ErasedItem(what="profiles", count=profiles),
                ErasedItem(what="engagements", count=engagements),
                ErasedItem(what="suppressions", count=suppressions),
                ErasedItem(what="back_in_stock_requests", count=alerts),
            ],
            anonymised=[ErasedItem(what="coupon_codes", count=codes)] if codes else [],
        )
