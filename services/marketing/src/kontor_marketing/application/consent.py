"""Newsletter consent: subscribe (double opt-in), confirm, unsubscribe (issue 15).

``subscribe`` records the request with its evidence and queues the confirmation mail in
the same unit; ``confirm`` and ``unsubscribe`` act on signed links (``domain/links.py``)
and announce the person's consent to e-mail advertising as ``ConsentChanged``. The
answers never tell whether an address was known (no probing of who subscribed).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from kontor_contracts.events.marketing import ConsentChanged
from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import Conflict, Invalid
from kontor_servicekit.uow import Transactor

from kontor_marketing.application.profiles import refresh_email
from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.domain.campaign import Engagement
from kontor_marketing.domain.consent import Consent, normalise_email
from kontor_marketing.domain.events import ConsentConfirmed, ConsentRequested, ConsentWithdrawn
from kontor_marketing.domain.flow_mails import welcome_mail
from kontor_marketing.domain.links import BadLink, LinkSigner
from kontor_marketing.domain.mail import QueuedMail, confirmation_mail, flow_mail

CONFIRM = "consent-confirm"
UNSUBSCRIBE = "consent-unsubscribe"
WELCOME_FLOW = "welcome"


class LinkRefused(Invalid):
    """A confirmation or unsubscribe link that does not admit (400, or 410 if expired)."""

    def __init__(self, reason: BadLink) -> None:
        super().__init__(str(reason), field=("token",), location="path")
        self.expired = reason.expired


@dataclass(frozen=True)
class ConsentLinks:
    """The public links of consent mails: signed, under the service's public address."""

    signer: LinkSigner
    base_url: str
    confirm_for: timedelta

    def confirm_url(self, email: str, request_id: str, clock: Clock) -> tuple[str, datetime]:
        expires = clock() + self.confirm_for
        token = self.signer.sign(CONFIRM, {"e": email, "r": request_id}, expires_at=expires)
        return f"{self.base_url}/newsletter/confirmations/{quote(token)}", expires

    def unsubscribe_url(
        self, email: str, topics: tuple[str, ...] | None = None, campaign_id: str | None = None
    ) -> str:
        """Never expires: an unsubscribe link must work as long as the mail is kept.
        ``campaign_id``: the campaign whose mail carried it (unsubscribes it caused)."""
        data: dict[str, object] = {"e": email, "t": list(topics) if topics else None}
        if campaign_id is not None:
            data["c"] = campaign_id
        token = self.signer.sign(UNSUBSCRIBE, data, expires_at=None)
        return f"{self.base_url}/newsletter/unsubscribe/{quote(token)}"

    def read(self, purpose: str, token: str, clock: Clock) -> dict[str, object]:
        try:
            return self.signer.verify(purpose, token, now=clock())
        except BadLink as exc:
            raise LinkRefused(exc) from exc


@dataclass(frozen=True)
class Subscribe:
    email: str
    topics: tuple[str, ...]
    locale: str
    source: str
    ip: str | None


@dataclass(frozen=True)
class ConsentOutcome:
    email: str
    topics: tuple[str, ...]
    """What changed: the topics asked for, confirmed or withdrawn now (may be empty)."""
    consent: Consent | None


async def subscribe(
    transactor: Transactor[MarketingUnitOfWork],
    command: Subscribe,
    *,
    links: ConsentLinks,
    imprint: str,
    clock: Clock,
) -> ConsentOutcome:
    email = normalise_email(command.email)

    async def work(uow: MarketingUnitOfWork) -> ConsentOutcome:
        return await request_consent(uow, command, email, links=links, imprint=imprint, clock=clock)

    return await transactor.run(work)


async def request_consent(
    uow: MarketingUnitOfWork,
    command: Subscribe,
    email: str,
    *,
    links: ConsentLinks,
    imprint: str,
    clock: Clock,
) -> ConsentOutcome:
    """:func:`subscribe` inside a unit another use case runs (a back-in-stock request)."""
    now = clock()
    consent = await uow.consents.get(email) or Consent(email=email, locale=command.locale)
    waiting = consent.request(
        command.topics,
        request_id=str(uuid.uuid4()),
        at=now,
        source=command.source,
        ip=command.ip,
        locale=command.locale,
    )
    for event in consent.pull_events():
        if isinstance(event, ConsentRequested):
            url, expires = links.confirm_url(email, event.request_id, clock)
            mail = confirmation_mail(
                to=email,
                locale=event.locale,
                topics=event.topics,
                link=url,
                expires_at=expires,
                imprint=imprint,
            )
            await uow.mails.add(
                QueuedMail(id=str(uuid.uuid4()), kind="confirmation", mail=mail, created_at=now)
            )
    await uow.consents.save(consent)
    await refresh_email(uow, email, now)
    return ConsentOutcome(email, waiting, consent)


async def confirm(
    transactor: Transactor[MarketingUnitOfWork],
    token: str,
    *,
    ip: str | None,
    links: ConsentLinks,
    clock: Clock,
    imprint: str | None = None,
) -> ConsentOutcome:
    """Confirm by the mail's link; the person's first confirmation queues the welcome
    mail (with ``imprint`` for its footer; None: none, for the consent alone)."""
    data = links.read(CONFIRM, token, clock)
    email, request_id = str(data.get("e", "")), str(data.get("r", ""))

    async def work(uow: MarketingUnitOfWork) -> ConsentOutcome:
        consent = await uow.consents.get(email)
        if consent is None:  # erased since the mail was sent
            raise LinkRefused(BadLink("this link is no longer valid"))
        confirmed = consent.confirm(request_id, at=clock(), ip=ip)
        _announce(uow, consent)
        await uow.consents.save(consent)
        await refresh_email(uow, email, clock())
        first = sum(1 for e in consent.evidence if e.kind == "confirmed") == 1
        if confirmed and first and imprint is not None:
            await welcome(uow, consent, confirmed, links=links, imprint=imprint, now=clock())
        return ConsentOutcome(email, confirmed, consent)

    return await transactor.run(work)


async def welcome(
    uow: MarketingUnitOfWork,
    consent: Consent,
    topics: tuple[str, ...],
    *,
    links: ConsentLinks,
    imprint: str,
    now: datetime,
) -> None:
    """The welcome flow (issue 15): one mail right after the first opt-in."""
    mail = welcome_mail(
        to=consent.email,
        locale=consent.locale,
        topics=topics,
        unsubscribe_url=links.unsubscribe_url(consent.email),
        imprint=imprint,
    )
    await uow.mails.add(
        flow_mail(mail, mail_id=str(uuid.uuid4()), flow=WELCOME_FLOW, topic=topics[0], now=now)
    )


def unsubscribe_topics(
    links: ConsentLinks, token: str, clock: Clock
) -> tuple[str, tuple[str, ...] | None]:
    """Whose link it is and the topics it names (None: every topic)."""
    data = links.read(UNSUBSCRIBE, token, clock)
    raw = data.get("t")
    topics = tuple(str(t) for t in raw) if isinstance(raw, list) and raw else None
    return str(data.get("e", "")), topics


def _campaign_of(links: ConsentLinks, token: str, clock: Clock) -> str | None:
    found = links.read(UNSUBSCRIBE, token, clock).get("c")
    return None if found is None else str(found)


async def unsubscribe(
    transactor: Transactor[MarketingUnitOfWork],
    token: str,
    *,
    topics: tuple[str, ...] | None = None,
    source: str,
    ip: str | None,
    links: ConsentLinks,
    clock: Clock,
) -> ConsentOutcome:
    """Withdraw ``topics`` (None: the link's topics, or every topic) at once."""
    email, named = unsubscribe_topics(links, token, clock)
    chosen = topics if topics is not None else named
    campaign_id = _campaign_of(links, token, clock)

    async def work(uow: MarketingUnitOfWork) -> ConsentOutcome:
        consent = await uow.consents.get(email)
        if consent is None:  # nothing held (erased): nothing to withdraw
            return ConsentOutcome(email, (), None)
        changed = consent.unsubscribe(chosen, at=clock(), source=source, ip=ip)
        _announce(uow, consent)
        await uow.consents.save(consent)
        await refresh_email(uow, email, clock())
        if changed and campaign_id is not None:
            await uow.engagements.add(Engagement(campaign_id, email, "unsubscribe", clock()))
        return ConsentOutcome(email, changed, consent)

    return await transactor.run(work)


def _announce(uow: MarketingUnitOfWork, consent: Consent) -> None:
    """``ConsentChanged`` keyed by the person's subject id, never by the e-mail: the key
    and the envelope's aggregate id are not sealed (ADR 0056)."""
    for event in consent.pull_events():
        if isinstance(event, ConsentConfirmed):
            changed = ConsentChanged(
                subject_id=uow.subject_id(event.email),
                email=event.email,
                channel="email",
                granted=True,
                source="newsletter_double_opt_in",
                changed_at=event.at,
                double_opt_in_at=event.at,
                topics=list(event.confirmed_topics),
            )
        elif isinstance(event, ConsentWithdrawn):
            changed = ConsentChanged(
                subject_id=uow.subject_id(event.email),
                email=event.email,
                channel="email",
                granted=bool(event.confirmed_topics),
                source=event.source,
                changed_at=event.at,
                topics=list(event.confirmed_topics),
            )
        else:
            continue
        uow.emit(changed, aggregate_id=changed.subject_id)


# --------------------------------------------------------------- links opened by people


@dataclass(frozen=True)
class LinkAnswer:
    """What a page shows for a link: the outcome, or why the link did nothing."""

    outcome: ConsentOutcome | None
    refusal: str | None = None
    status: int = 200


async def confirm_from_mail(
    transactor: Transactor[MarketingUnitOfWork],
    token: str,
    *,
    ip: str | None,
    links: ConsentLinks,
    clock: Clock,
    imprint: str | None = None,
) -> LinkAnswer:
    """:func:`confirm` for the page a mail client opens: a refusal is a page, not an error."""
    try:
        return LinkAnswer(
            await confirm(transactor, token, ip=ip, links=links, clock=clock, imprint=imprint)
        )
    except LinkRefused as exc:
        return LinkAnswer(None, str(exc), 410 if exc.expired else 400)
    except Conflict as exc:
        return LinkAnswer(None, str(exc), 409)


async def unsubscribe_from_page(
    transactor: Transactor[MarketingUnitOfWork],
    token: str,
    *,
    topics: tuple[str, ...] | None,
    ip: str | None,
    links: ConsentLinks,
    clock: Clock,
) -> LinkAnswer:
    try:
        outcome = await unsubscribe(
            transactor,
            token,
            topics=topics,
            source="unsubscribe_page",
            ip=ip,
            links=links,
            clock=clock,
        )
    except LinkRefused as exc:
        return LinkAnswer(None, str(exc), 400)
    return LinkAnswer(outcome)


def read_unsubscribe_link(links: ConsentLinks, token: str, clock: Clock) -> LinkAnswer:
    """Whose unsubscribe link this is (to show the page), or why it is refused."""
    try:
        email, topics = unsubscribe_topics(links, token, clock)
    except LinkRefused as exc:
        return LinkAnswer(None, str(exc), 400)
    return LinkAnswer(ConsentOutcome(email, topics or (), None))
