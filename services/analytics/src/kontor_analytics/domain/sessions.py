"""Sessions: a client's hits with no gap longer than the timeout (GA4: 30 minutes).

A hit with GA4's ``session_id`` parameter belongs to that session of its client. A hit
without one continues the client's current session if it came within the timeout of the
session's last hit, and starts a new session otherwise. Each session keeps what the
figures count: the funnel steps reached, the products viewed and bought, the value left
in the cart, the checkout errors, and the traffic source of its first hit that had one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from kontor_analytics.domain.collect import DIRECT, ECOMMERCE_EVENTS, Hit, Source, traffic_source

STEPS = frozenset({*ECOMMERCE_EVENTS, "page_view"})


@dataclass
class ClientState:
    """Where a client's hits without a ``session_id`` go: its current session."""

    client_id: str
    session_key: str
    last_at: datetime


def session_key(client_id: str, hit: Hit, *known: ClientState | None, timeout: timedelta) -> str:
    """The session ``hit`` belongs to: the first of the ``known`` sessions (the one the
    hit's own request continues, then the client's newest) that it comes within the
    timeout of, else a new one. A request older than the client's newest session (it
    arrived late) so keeps its hits together instead of making each its own session."""
    if hit.session_id is not None:
        return f"{client_id}:{hit.session_id}"
    for current in known:
        if current is not None and abs(hit.at - current.last_at) <= timeout:
            return current.session_key
    return f"{client_id}:t{int(hit.at.timestamp() * 1_000_000)}"


@dataclass
class Session:
    key: str
    client_id: str
    started_at: datetime
    last_at: datetime
    user_id: str | None = None
    source: Source = DIRECT
    sourced: bool = False
    """Whether ``source`` came from a hit (else direct so far: a later hit may tell)."""
    events: int = 0
    steps: set[str] = field(default_factory=set)
    viewed: set[str] = field(default_factory=set)
    carted: set[str] = field(default_factory=set)
    purchased: set[str] = field(default_factory=set)
    categories_viewed: set[str] = field(default_factory=set)
    categories_purchased: set[str] = field(default_factory=set)
    cart_value: Decimal = Decimal("0")
    purchase_value: Decimal = Decimal("0")
    transactions: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, key: str, client_id: str, hit: Hit) -> Session:
        return cls(key=key, client_id=client_id, started_at=hit.at, last_at=hit.at)

    @property
    def purchased_any(self) -> bool:
        return "purchase" in self.steps

    def apply(self, hit: Hit, user_id: str | None = None) -> None:
        """Count ``hit`` into the session (hits may come in any order)."""
        self.events += 1
        if user_id:
            self.user_id = user_id
        if hit.at < self.started_at:
            self.started_at = hit.at
            told = traffic_source(hit.params)
            if told is not None:  # an earlier hit decides the source
                self.source, self.sourced = told, True
        self.last_at = max(self.last_at, hit.at)
        if not self.sourced:
            told = traffic_source(hit.params)
            if told is not None:
                self.source, self.sourced = told, True
        if hit.name in STEPS:
            self.steps.add(hit.name)
        reason = hit.error_reason
        if reason is not None:
            self.errors.append(reason)
        items = hit.items
        if hit.name == "view_item":
            self.viewed.update(i.sku for i in items)
            self.categories_viewed.update(i.category for i in items if i.category)
        elif hit.name == "add_to_cart":
            self.carted.update(i.sku for i in items)
            self.cart_value += _worth(hit)
        elif hit.name == "remove_from_cart":
            self.cart_value = max(Decimal("0"), self.cart_value - _worth(hit))
        elif hit.name == "purchase":
            transaction = str(hit.params.get("transaction_id") or "")
            if transaction and transaction in self.transactions:
                return  # the same purchase sent twice counts once
            if transaction:
                self.transactions.add(transaction)
            self.purchased.update(i.sku for i in items)
            self.categories_purchased.update(i.category for i in items if i.category)
            self.purchase_value += _worth(hit)


def _worth(hit: Hit) -> Decimal:
    """A hit's ``value``, else the sum of its items' price x quantity."""
    if hit.value is not None:
        return hit.value
    return sum(((i.price or Decimal("0")) * i.quantity for i in hit.items), start=Decimal("0"))


def sessionize(
    client_id: str, hits: list[tuple[Hit, str | None]], timeout: timedelta
) -> tuple[list[Session], ClientState | None]:
    """A client's sessions from nothing: its hits (each with its user id) in time order."""
    state: ClientState | None = None
    sessions: dict[str, Session] = {}
    for hit, user_id in sorted(hits, key=lambda pair: pair[0].at):
        key = session_key(client_id, hit, state, timeout=timeout)
        session = sessions.get(key) or Session.start(key, client_id, hit)
        session.apply(hit, user_id)
        sessions[key] = session
        if state is None or hit.at >= state.last_at:
            state = ClientState(client_id, key, hit.at)
    return list(sessions.values()), state
