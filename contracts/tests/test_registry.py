"""Every event has exactly one home topic, owned by the event's producer."""

import inspect
import re
from typing import ClassVar

import pytest
from kontor_contracts import REGISTRY, SERVICES, Event, UnknownEventType
from kontor_contracts.events import analytics, billing, catalog, marketing, orders, support
from kontor_contracts.events.catalog import ProductCreated, StockAdjusted
from kontor_contracts.events.orders import OrderPlaced
from kontor_contracts.examples import load_example
from kontor_contracts.registry import (
    DAY_MS,
    EventSpec,
    Registry,
    TopicSpec,
    UnknownTopic,
    dead_letter_topic,
)

pytestmark = pytest.mark.unit

EXPECTED_TOPICS = {
    "catalog.product.v1": [
        "ProductCreated",
        "ProductUpdated",
        "ProductPriceChanged",
        "ProductDiscontinued",
    ],
    "catalog.stock.v1": ["StockAdjusted"],
    "catalog.reservation.v1": [
        "StockReserved",
        "StockReservationRejected",
        "StockReleased",
        "ReplacementStockBooked",
        "ReplacementStockRejected",
    ],
    "catalog.shipping.v1": ["ShippingMethodChanged"],
    "orders.cart.v1": ["CartUpdated", "CheckoutStarted", "CartAbandoned"],
    "orders.order.v1": [
        "OrderPlaced",
        "OrderConfirmed",
        "OrderRejected",
        "OrderCancelled",
        "OrderShipped",
        "OrderDelivered",
    ],
    "orders.return.v1": [
        "ReturnRequested",
        "ReturnReceived",
        "ReturnCompleted",
        "WithdrawalReceived",
    ],
    "orders.complaint.v1": ["ComplaintFiled", "ReplacementRequested"],
    "billing.invoice.v1": ["InvoiceIssued", "InvoiceCancelled", "CreditNoteIssued"],
    "billing.payment.v1": ["PaymentReceived", "PaymentOverdue", "PaymentRefunded"],
    "billing.quote.v1": ["QuoteAccepted"],
    "support.ticket.v1": ["TicketOpened", "TicketUpdated", "TicketResolved", "TicketSlaBreached"],
    "marketing.campaign.v1": ["CampaignScheduled", "CampaignSent"],
    "marketing.coupon.v1": [
        "CouponRedeemed",
        "CouponDefined",
        "CouponWithdrawn",
        "CouponCodesIssued",
    ],
    "marketing.consent.v2": ["ConsentChanged"],
    "analytics.kpi.v1": ["KpiThresholdBreached"],
    "billing.payable.v1": ["IncomingInvoiceReceived", "IncomingInvoiceApproved"],
    "orders.privacy_request.v1": [
        "DataExportRequested",
        "CustomerDataExported",
        "ErasureRequested",
        "CustomerDataErased",
    ],
}


def test_topics_and_their_events_are_exactly_the_agreed_ones() -> None:
    actual = {t.name: [e.type for e in REGISTRY.events_on(t.name)] for t in REGISTRY.topics()}
    assert actual == EXPECTED_TOPICS


def test_topic_names_follow_service_aggregate_major() -> None:
    for topic in REGISTRY.topics():
        assert re.fullmatch(r"[a-z]+\.[a-z_]+\.v[1-9]\d*", topic.name), topic.name
        major = int(topic.name.rsplit(".v", 1)[1])
        assert topic.name == f"{topic.owner}.{topic.aggregate}.v{major}"
        # a breaking change is a new event version on a new major topic (ADR 0002)
        assert {e.version for e in REGISTRY.events_on(topic.name)} == {major}, topic.name
        assert topic.owner in SERVICES
        assert topic.partitions >= 1
        assert topic.retention_ms == -1 or topic.retention_ms >= DAY_MS


def test_every_event_lives_on_a_topic_of_its_owner() -> None:
    for spec in REGISTRY.all_events():
        topic = REGISTRY.topic(spec.topic)
        assert topic.owner == spec.owner, spec.type
        # the model sits in the module of its owning service
        assert spec.model.__module__ == f"kontor_contracts.events.{spec.owner}", spec.type


def test_every_event_class_in_the_event_modules_is_registered() -> None:
    modules = [analytics, billing, catalog, marketing, orders, support]
    classes = {
        obj
        for module in modules
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, Event) and obj is not Event and obj.__module__ == module.__name__
    }
    assert classes == {spec.model for spec in REGISTRY.all_events()}
    for model in classes:
        assert model.event_type == model.__name__


def test_every_event_carries_its_topic_key() -> None:
    for spec in REGISTRY.all_events():
        key = spec.key or REGISTRY.topic(spec.topic).key
        assert key in spec.model.model_fields, f"{spec.type} lacks key field {key}"
        env = load_example(spec.type, spec.version)
        event = env.payload_model()
        assert REGISTRY.aggregate_id_of(event) == env.aggregate_id, spec.type


def test_lookups() -> None:
    spec = REGISTRY.spec_for("OrderPlaced", 1)
    assert spec.model is OrderPlaced
    assert REGISTRY.spec_of(OrderPlaced) is spec
    assert REGISTRY.topic_of(StockAdjusted) == "catalog.stock.v1"
    assert REGISTRY.topic("orders.order.v1").owner == "orders"
    assert {t.name for t in REGISTRY.owned_by("catalog")} == {
        "catalog.product.v1",
        "catalog.stock.v1",
        "catalog.reservation.v1",
        "catalog.shipping.v1",
    }
    assert REGISTRY.owned_by("nobody") == []
    assert REGISTRY.spec_of(ProductCreated).topic == "catalog.product.v1"


def test_unknown_lookups_raise() -> None:
    with pytest.raises(UnknownEventType):
        REGISTRY.spec_for("OrderPlaced", 2)
    with pytest.raises(KeyError):
        REGISTRY.spec_for("Nope", 1)

    class NotRegistered(Event):
        event_type: ClassVar[str] = "NotRegistered"

    with pytest.raises(UnknownEventType):
        REGISTRY.spec_of(NotRegistered)
    with pytest.raises(UnknownTopic):
        REGISTRY.topic("orders.order.v2")
    with pytest.raises(UnknownTopic):
        REGISTRY.events_on("orders.nothing.v1")


def test_order_and_billing_facts_are_kept_longer_than_the_default() -> None:
    default = REGISTRY.topic("orders.cart.v1").retention_ms
    for name in ["orders.order.v1", "billing.invoice.v1", "billing.payment.v1"]:
        assert REGISTRY.topic(name).retention_ms > default


def test_dead_letter_topic_belongs_to_the_consumer_group() -> None:
    assert dead_letter_topic("billing.invoicing") == "billing.invoicing.dlt"
    assert dead_letter_topic("billing.invoicing").split(".")[0] in SERVICES


class _Thing(Event):
    event_type: ClassVar[str] = "_Thing"
    order_id: str


def test_registry_rejects_inconsistent_definitions() -> None:
    topic = TopicSpec(name="orders.thing.v1", owner="orders", aggregate="thing", key="order_id")
    good = EventSpec(type="_Thing", version=1, model=_Thing, topic=topic.name, owner="orders")
    Registry([topic], [good])  # consistent: accepted
    with pytest.raises(ValueError, match="owner"):
        Registry([topic], [EventSpec("_Thing", 1, _Thing, topic.name, "billing")])
    with pytest.raises(ValueError, match="not registered"):
        Registry([], [good])
    with pytest.raises(ValueError, match="twice"):
        Registry([topic, topic], [])
    with pytest.raises(ValueError, match="does not match"):
        Registry([TopicSpec(name="Orders-Thing", owner="orders", aggregate="thing")], [])
    with pytest.raises(ValueError, match="not a service"):
        Registry([TopicSpec(name="shipping.parcel.v1", owner="shipping", aggregate="parcel")], [])
    keyed = TopicSpec(name="orders.thing.v1", owner="orders", aggregate="thing", key="sku")
    with pytest.raises(ValueError, match="key field"):
        Registry([keyed], [good])


def test_only_the_privacy_protocol_topic_has_producers_besides_its_owner() -> None:
    shared = {t.name: t.producers for t in REGISTRY.topics() if t.producers}
    assert shared == {"orders.privacy_request.v1": ("catalog", "billing", "marketing")}
    assert "orders.privacy_request.v1" in [t.name for t in REGISTRY.produced_by("billing")]
    assert "orders.privacy_request.v1" not in [t.name for t in REGISTRY.produced_by("support")]
    assert [t.name for t in REGISTRY.owned_by("billing")] == [
        "billing.invoice.v1",
        "billing.payment.v1",
        "billing.payable.v1",
        "billing.quote.v1",
    ]
    stranger = TopicSpec(
        name="orders.thing.v1", owner="orders", aggregate="thing", producers=("shipping",)
    )
    with pytest.raises(ValueError, match="producer"):
        Registry([stranger], [])
