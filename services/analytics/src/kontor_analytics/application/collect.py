"""Collecting storefront events: keep each raw, count the human ones into sessions."""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from crawlerdetect import CrawlerDetect
from kontor_servicekit.domain_errors import FieldProblem, Invalid
from kontor_servicekit.ratelimit import RateLimiter
from kontor_servicekit.uow import Transactor

from kontor_analytics.application.unit_of_work import AnalyticsUnitOfWork
from kontor_analytics.domain.collect import Hit, RawEvent, check_events, truncate_ip
from kontor_analytics.domain.sessions import ClientState, Session, session_key, sessionize


@dataclass(frozen=True)
class Collect:
    client_id: str
    user_id: str | None
    hits: Sequence[Hit]
    ip: str | None
    bot_reasons: Sequence[str | None]
    """Per hit: why it is bot traffic (user agent, rate), or None for a person."""


@dataclass(frozen=True)
class EventInput:
    name: str
    params: Mapping[str, Any]
    timestamp_micros: int | None = None


class Collector:
    """The rules of ``POST /collect`` that come from the settings: who may send, what
    counts as a bot, what is kept of the address. One per process (the rate window is
    in memory: with N replicas a client gets N times the rate before it counts as a bot).
    """

    def __init__(
        self,
        *,
        measurement_id: str,
        api_secret: str | None,
        consent_required: bool,
        max_events_per_minute: int,
        store_ip: bool,
    ) -> None:
        self.measurement_id = measurement_id
        self.api_secret = api_secret
        self.consent_required = consent_required
        self.store_ip = store_ip
        self.rates = RateLimiter(max_events_per_minute, 60.0)
        self.crawlers = CrawlerDetect()

    def secret_ok(self, given: str | None) -> bool:
        """No secret configured: anyone with the measurement id; else the same secret."""
        if self.api_secret is None:
            return True
        return given is not None and hmac.compare_digest(given.encode(), self.api_secret.encode())

    def command(
        self,
        *,
        measurement_id: str,
        api_secret: str | None,
        client_id: str,
        user_id: str | None,
        events: Sequence[EventInput],
        request_micros: int | None,
        analytics_consent: str | None,
        ip: str | None,
        user_agent: str | None,
        now: datetime,
    ) -> Collect:
        """The request as a command, or :class:`Invalid` with every reason it is refused."""
        problems: list[FieldProblem] = []
        if not hmac.compare_digest(measurement_id.encode(), self.measurement_id.encode()):
            problems.append(
                FieldProblem(("measurement_id",), "unknown measurement id", location="query")
            )
        if self.consent_required and analytics_consent != "GRANTED":
            problems.append(
                FieldProblem(
                    ("consent", "analytics_storage"),
                    "this shop collects only with consent: analytics_storage must be GRANTED",
                    type="consent_required",
                )
            )
        timed = [
            (e.name, e.params, _moment(e.timestamp_micros or request_micros, now)) for e in events
        ]
        problems += check_events(timed, now)
        if problems:
            raise Invalid("the events were refused", problems=problems)
        hits = [Hit(name, at, params) for name, params, at in timed]
        server_side = self.api_secret is not None and api_secret is not None
        crawler = not server_side and bool(user_agent) and self.crawlers.isCrawler(user_agent)
        reasons: list[str | None] = []
        for _ in hits:
            if crawler:
                reasons.append("user_agent")
            elif self.rates.retry_after(client_id) is not None:
                reasons.append("rate")
            else:
                reasons.append(None)
        return Collect(
            client_id=client_id,
            user_id=user_id,
            hits=hits,
            ip=truncate_ip(ip) if self.store_ip else None,
            bot_reasons=reasons,
        )


def _moment(micros: int | None, now: datetime) -> datetime:
    if micros is None:
        return now
    return datetime.fromtimestamp(micros / 1_000_000, UTC)


async def count_into_sessions(
    uow: AnalyticsUnitOfWork,
    client_id: str,
    hits: Sequence[tuple[Hit, str | None]],
    timeout: timedelta,
) -> set[str]:
    """Apply ``hits`` (a person's, each with its user id) to the client's sessions."""
    state = await uow.sessions.client(client_id)
    touched: dict[str, Session] = {}
    recent: ClientState | None = None  # where this request's previous hit went
    for hit, user_id in sorted(hits, key=lambda pair: pair[0].at):
        key = session_key(client_id, hit, recent, state, timeout=timeout)
        session = touched.get(key) or await uow.sessions.get(key)
        if session is None:
            session = Session.start(key, client_id, hit)
        session.apply(hit, user_id)
        touched[key] = session
        recent = ClientState(client_id, key, hit.at)
        if state is None or hit.at >= state.last_at:
            state = recent
    for session in touched.values():
        await uow.sessions.save(session)
    if state is not None:
        await uow.sessions.save_client(state)
    return set(touched)


async def collect(
    transactor: Transactor[AnalyticsUnitOfWork],
    command: Collect,
    *,
    now: datetime,
    timeout: timedelta,
) -> int:
    """Store every hit raw and count the persons' into sessions; how many were human."""
    raw = [
        RawEvent(
            event_id=str(uuid.uuid4()),
            client_id=command.client_id,
            user_id=command.user_id,
            hit=hit,
            received_at=now,
            ip=command.ip,
            bot=reason is not None,
            bot_reason=reason,
        )
        for hit, reason in zip(command.hits, command.bot_reasons, strict=True)
    ]
    human = [e.hit for e in raw if not e.bot]

    async def work(uow: AnalyticsUnitOfWork) -> int:
        await uow.raw_events.add(raw)
        if human:
            pairs = [(hit, command.user_id) for hit in human]
            await count_into_sessions(uow, command.client_id, pairs, timeout)
        return len(human)

    return await transactor.run(work)


async def rebuild_sessions(
    transactor: Transactor[AnalyticsUnitOfWork],
    clients: Sequence[str],
    *,
    timeout: timedelta,
    chunk: int = 100,
) -> int:
    """Every client's sessions again from its raw events (bots left out), ``chunk``
    clients per transaction; how many sessions."""
    total = 0
    for index in range(0, len(clients), chunk):
        some = list(clients[index : index + chunk])

        async def work(uow: AnalyticsUnitOfWork, some: list[str] = some) -> int:
            await uow.sessions.forget_clients(some)
            raw = await uow.raw_events.of_clients(some)
            made = 0
            for client_id in some:
                pairs = [(e.hit, e.user_id) for e in raw.get(client_id, []) if not e.bot]
                sessions, state = sessionize(client_id, pairs, timeout)
                await uow.sessions.add_many(sessions)
                if state is not None:
                    await uow.sessions.save_client(state)
                made += len(sessions)
            return made

        total += await transactor.run(work)
    return total
