"""Topics and events: who owns what, where each event is published, how it is keyed.

The :data:`REGISTRY` is the single source of truth for topic creation (deploy),
producers (topic and key of an event), consumers (parsing an envelope's payload)
and the generated JSON schemas.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .envelope import Event, UnknownEventType
from .events import analytics, billing, catalog, marketing, orders, support

__all__ = [
    "DAY_MS",
    "REGISTRY",
    "SERVICES",
    "TOPIC_PATTERN",
    "EventSpec",
    "Registry",
    "TopicSpec",
    "UnknownEventType",
    "UnknownTopic",
    "dead_letter_topic",
]

SERVICES: tuple[str, ...] = ("catalog", "orders", "billing", "support", "marketing", "analytics")

TOPIC_PATTERN = re.compile(
    r"^(?P<owner>[a-z]+)\.(?P<aggregate>[a-z][a-z_]*)\.v(?P<major>[1-9]\d*)$"
)
"""``<service>.<aggregate>.v<major>``."""

DAY_MS = 24 * 60 * 60 * 1000

# Retention. Kafka is the transport and the source for rebuilding read models, not the
# system of record: every service keeps its own state in Mongo, and billing keeps its
# documents for the 10 years GoBD/§147 AO demand. Retention therefore only has to cover
# (a) a consumer that is down or parked for a while and (b) rebuilding a read model.
#
# - 7 days (default): enough to outlast a long weekend outage plus an investigation
#   of parked messages; carts, stock movements, reservations, tickets and campaigns
#   are short-lived or superseded by later state.
# - 42 days for order and billing facts: a rebuild of billing's or analytics' read
#   models must reach back to the first day of the previous month on the 10th of the
#   current month (monthly VAT pre-return, UStVA, and the monthly close), i.e. up to
#   41 days; 42 = six whole weeks.
# - forever (-1, Kafka's "no time limit") for the product catalogue: low volume,
#   and every consumer (orders, billing, marketing, analytics) needs the history of
#   every article that still exists to build its read model from scratch. Not
#   compacted: its events are deltas (a price change does not repeat the name), so
#   compaction would drop facts. The same for marketing's coupons: a code valid for
#   months must reach a rebuilt orders' coupon read model.
DEFAULT_RETENTION_MS = 7 * DAY_MS
FACTS_RETENTION_MS = 42 * DAY_MS
RETENTION_FOREVER = -1


class UnknownTopic(KeyError):
    """No topic of that name is registered."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown topic"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    owner: str
    aggregate: str
    partitions: int = 6
    retention_ms: int = DEFAULT_RETENTION_MS
    compacted: bool = False
    key: str = ""
    """The payload field whose value is the Kafka key (the aggregate id), e.g. 'order_id'."""
    producers: tuple[str, ...] = ()
    """Services besides the owner that produce to it: only a protocol every service
    answers on (the privacy requests, ADR 0035); empty for every other topic."""


@dataclass(frozen=True)
class EventSpec:
    type: str
    version: int
    model: builtins.type[Event]  # "type" is a field name here
    topic: str
    owner: str
    key: str = ""
    """The payload field that is this event's Kafka key when it is not the topic's: a
    coupon pool's batch of codes is keyed by its pool (ADR 0118)."""


def dead_letter_topic(group: str) -> str:
    """Where consumer group ``group`` (``<service>.<purpose>``) parks what it cannot handle.

    One DLT per consumer group, owned by that group's service: a parked message is
    replayed to the one group that failed, not to every consumer of the topic.
    """
    return f"{group}.dlt"


class Registry:
    """An immutable, validated catalogue of topics and their events."""

    def __init__(self, topics: Iterable[TopicSpec], events: Iterable[EventSpec]) -> None:
        self._topics: dict[str, TopicSpec] = {}
        for topic in topics:
            if topic.name in self._topics:
                raise ValueError(f"topic {topic.name} registered twice")
            match = TOPIC_PATTERN.fullmatch(topic.name)
            if match is None:
                raise ValueError(f"topic {topic.name} does not match <service>.<aggregate>.v<n>")
            if topic.owner not in SERVICES:
                raise ValueError(f"topic {topic.name}: owner {topic.owner} is not a service")
            if match["owner"] != topic.owner or match["aggregate"] != topic.aggregate:
                raise ValueError(f"topic {topic.name}: name disagrees with owner/aggregate")
            if not set(topic.producers) <= set(SERVICES):
                raise ValueError(f"topic {topic.name}: a producer is not a service")
            self._topics[topic.name] = topic
        self._events: dict[tuple[str, int], EventSpec] = {}
        self._by_model: dict[type[Event], EventSpec] = {}
        for spec in events:
            key = (spec.type, spec.version)
            if key in self._events:
                raise ValueError(f"event {spec.type}.v{spec.version} registered twice")
            if spec.model in self._by_model:
                raise ValueError(f"model {spec.model.__name__} registered twice")
            if spec.model.event_type != spec.type or spec.model.event_version != spec.version:
                raise ValueError(f"{spec.model.__name__}: event_type/version disagree with spec")
            home = self._topics.get(spec.topic)
            if home is None:
                raise ValueError(f"event {spec.type}: topic {spec.topic} is not registered")
            if home.owner != spec.owner:
                raise ValueError(f"event {spec.type}: owner {spec.owner} != topic owner")
            key_field = spec.key or home.key
            if key_field and key_field not in spec.model.model_fields:
                raise ValueError(f"event {spec.type}: has no key field {key_field!r}")
            self._events[key] = spec
            self._by_model[spec.model] = spec

    def spec_for(self, type: str, version: int) -> EventSpec:
        try:
            return self._events[(type, version)]
        except KeyError:
            raise UnknownEventType(f"no event registered as {type}.v{version}") from None

    def spec_of(self, model: type[Event]) -> EventSpec:
        try:
            return self._by_model[model]
        except KeyError:
            raise UnknownEventType(f"{model.__name__} is not a registered event") from None

    def topic_of(self, model: type[Event]) -> str:
        return self.spec_of(model).topic

    def topics(self) -> list[TopicSpec]:
        return list(self._topics.values())

    def topic(self, name: str) -> TopicSpec:
        try:
            return self._topics[name]
        except KeyError:
            raise UnknownTopic(f"no topic registered as {name}") from None

    def events_on(self, topic: str) -> list[EventSpec]:
        self.topic(topic)  # raise for an unknown topic rather than answer []
        return [spec for spec in self._events.values() if spec.topic == topic]

    def owned_by(self, service: str) -> list[TopicSpec]:
        return [topic for topic in self._topics.values() if topic.owner == service]

    def produced_by(self, service: str) -> list[TopicSpec]:
        """The topics ``service`` may produce to: its own and the protocols it answers on."""
        return [
            topic
            for topic in self._topics.values()
            if topic.owner == service or service in topic.producers
        ]

    def all_events(self) -> list[EventSpec]:
        return list(self._events.values())

    def aggregate_id_of(self, event: Event) -> str:
        """The Kafka key of ``event``: the value of its topic's key field."""
        topic = self.topic(self.topic_of(type(event)))
        key_field = self.spec_of(type(event)).key or topic.key
        if not key_field:
            raise ValueError(f"topic {topic.name} declares no key field")
        return str(getattr(event, key_field))


def _events(topic: TopicSpec, *models: type[Event]) -> list[EventSpec]:
    return [
        EventSpec(
            type=model.event_type,
            version=model.event_version,
            model=model,
            topic=topic.name,
            owner=topic.owner,
        )
        for model in models
    ]


def _topic(name: str, *, key: str, retention_ms: int = DEFAULT_RETENTION_MS) -> TopicSpec:
    owner, aggregate, _ = name.split(".")
    return TopicSpec(
        name=name, owner=owner, aggregate=aggregate, retention_ms=retention_ms, key=key
    )


_PRODUCT = _topic("catalog.product.v1", key="sku", retention_ms=RETENTION_FOREVER)
_STOCK = _topic("catalog.stock.v1", key="sku")
_RESERVATION = _topic("catalog.reservation.v1", key="order_id")
# Shipping methods: each event is the full state of one method, so compaction (keep the
# newest per key) loses nothing and a rebuilding consumer reads one event per method.
_SHIPPING = TopicSpec(
    name="catalog.shipping.v1",
    owner="catalog",
    aggregate="shipping",
    key="method_id",
    retention_ms=RETENTION_FOREVER,
    compacted=True,
)
_CART = _topic("orders.cart.v1", key="cart_id")
_ORDER = _topic("orders.order.v1", key="order_id", retention_ms=FACTS_RETENTION_MS)
_RETURN = _topic("orders.return.v1", key="return_id", retention_ms=FACTS_RETENTION_MS)
_COMPLAINT = _topic("orders.complaint.v1", key="complaint_id", retention_ms=FACTS_RETENTION_MS)
_INVOICE = _topic("billing.invoice.v1", key="invoice_id", retention_ms=FACTS_RETENTION_MS)
# Payments are keyed by order: PaymentOverdue has no payment id, and all money facts
# of one order (partial payments, dunning) must stay in order for the ledger.
_PAYMENT = _topic("billing.payment.v1", key="order_id", retention_ms=FACTS_RETENTION_MS)
_TICKET = _topic("support.ticket.v1", key="ticket_id")
_CAMPAIGN = _topic("marketing.campaign.v1", key="campaign_id")
# Coupons: kept forever, as the catalogue (low volume): orders' coupon read model is built
# from this topic, and a code valid for months must survive a rebuild long after its
# definition (7 days lost every older coupon). Not compacted: a pool's batches and a
# withdrawal are separate facts of one key.
_COUPON = _topic("marketing.coupon.v1", key="code", retention_ms=RETENTION_FOREVER)
# v2 keyed by the person's pseudonymous subject id (ADR 0056); v1 (key: the e-mail in
# clear) is retired: nothing in Kontor read it, and its key outlived every erasure.
_CONSENT = _topic("marketing.consent.v2", key="subject_id")
_KPI = _topic("analytics.kpi.v1", key="kpi")
# Supplier invoices billing received (issue 12): keyed by the incoming invoice's id.
_PAYABLE = _topic("billing.payable.v1", key="invoice_id", retention_ms=FACTS_RETENTION_MS)
# Privacy requests (ADR 0035): orders coordinates, every participant answers on the same
# topic, keyed by the request. 7 days: a request is complete within hours; its state
# lives in orders' privacy_requests, and the topic carries the person's data in an export.
# A service that joins (support, marketing, analytics) adds itself to the producers.
_PRIVACY_REQUEST = TopicSpec(
    name="orders.privacy_request.v1",
    owner="orders",
    aggregate="privacy_request",
    key="request_id",
    producers=("catalog", "billing", "marketing"),
)
_QUOTE = _topic("billing.quote.v1", key="quote_number", retention_ms=FACTS_RETENTION_MS)

REGISTRY = Registry(
    topics=[
        _PRODUCT,
        _STOCK,
        _RESERVATION,
        _SHIPPING,
        _CART,
        _ORDER,
        _RETURN,
        _COMPLAINT,
        _INVOICE,
        _PAYMENT,
        _TICKET,
        _CAMPAIGN,
        _COUPON,
        _CONSENT,
        _KPI,
        _PAYABLE,
        _PRIVACY_REQUEST,
        _QUOTE,
    ],
    events=[
        *_events(
            _PRODUCT,
            catalog.ProductCreated,
            catalog.ProductUpdated,
            catalog.ProductPriceChanged,
            catalog.ProductDiscontinued,
        ),
        *_events(_STOCK, catalog.StockAdjusted),
        *_events(
            _RESERVATION,
            catalog.StockReserved,
            catalog.StockReservationRejected,
            catalog.StockReleased,
            catalog.ReplacementStockBooked,
            catalog.ReplacementStockRejected,
        ),
        *_events(_SHIPPING, catalog.ShippingMethodChanged),
        *_events(_CART, orders.CartUpdated, orders.CheckoutStarted, orders.CartAbandoned),
        *_events(
            _ORDER,
            orders.OrderPlaced,
            orders.OrderConfirmed,
            orders.OrderRejected,
            orders.OrderCancelled,
            orders.OrderShipped,
            orders.OrderDelivered,
        ),
        *_events(
            _RETURN,
            orders.ReturnRequested,
            orders.ReturnReceived,
            orders.ReturnCompleted,
            orders.WithdrawalReceived,
        ),
        *_events(_COMPLAINT, orders.ComplaintFiled, orders.ReplacementRequested),
        *_events(
            _INVOICE, billing.InvoiceIssued, billing.InvoiceCancelled, billing.CreditNoteIssued
        ),
        *_events(
            _PAYMENT, billing.PaymentReceived, billing.PaymentOverdue, billing.PaymentRefunded
        ),
        *_events(
            _TICKET,
            support.TicketOpened,
            support.TicketUpdated,
            support.TicketResolved,
            support.TicketSlaBreached,
        ),
        *_events(_CAMPAIGN, marketing.CampaignScheduled, marketing.CampaignSent),
        *_events(
            _COUPON,
            marketing.CouponRedeemed,
            marketing.CouponDefined,
            marketing.CouponWithdrawn,
        ),
        EventSpec(
            type=marketing.CouponCodesIssued.event_type,
            version=marketing.CouponCodesIssued.event_version,
            model=marketing.CouponCodesIssued,
            topic=_COUPON.name,
            owner=_COUPON.owner,
            key="pool_id",
        ),
        *_events(_CONSENT, marketing.ConsentChanged),
        *_events(_KPI, analytics.KpiThresholdBreached),
        *_events(_PAYABLE, billing.IncomingInvoiceReceived, billing.IncomingInvoiceApproved),
        *_events(
            _PRIVACY_REQUEST,
            orders.DataExportRequested,
            orders.CustomerDataExported,
            orders.ErasureRequested,
            orders.CustomerDataErased,
        ),
        *_events(_QUOTE, billing.QuoteAccepted),
    ],
)
"""Every topic and event of Kontor."""
