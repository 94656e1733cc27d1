"""Kontor's event catalogue: envelope, money types, event models, topics and JSON schemas.

Everything the six services exchange is defined here and nowhere else.
"""

from .envelope import ContractModel, Envelope, Event, UnknownEventType
from .money import Amount, Currency, Money, VatRate, quantize
from .registry import (
    REGISTRY,
    SERVICES,
    EventSpec,
    Registry,
    TopicSpec,
    UnknownTopic,
    dead_letter_topic,
)

__all__ = [
    "REGISTRY",
    "SERVICES",
    "Amount",
    "ContractModel",
    "Currency",
    "Envelope",
    "Event",
    "EventSpec",
    "Money",
    "Registry",
    "TopicSpec",
    "UnknownEventType",
    "UnknownTopic",
    "VatRate",
    "dead_letter_topic",
    "quantize",
]
