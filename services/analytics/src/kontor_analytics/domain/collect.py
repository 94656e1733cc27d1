"""What a storefront tells analytics: GA4 Measurement Protocol events, read and checked.

A request carries a client id, maybe a user id, and up to 25 events, each a name and
its parameters (https://developers.google.com/analytics/devguides/collection/protocol/ga4).
This module reads the parameters the figures use (items, value, traffic source, the
reason of a checkout error) and states GA4's limits; the raw parameters are kept as
sent, so the figures can be rebuilt when a definition changes.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kontor_servicekit.domain_errors import FieldProblem

MAX_EVENTS = 25
MAX_PARAMS = 25
MAX_NAME = 40
MAX_ITEMS = 200
MAX_PAST = timedelta(hours=72)
"""GA4 takes events up to 72 hours old (``timestamp_micros``); older ones are refused."""
MAX_FUTURE = timedelta(minutes=15)

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
RESERVED_PREFIXES = ("google_", "ga_", "firebase_")
RESERVED_NAMES = frozenset(
    {
        "ad_activeview",
        "ad_click",
        "ad_exposure",
        "ad_query",
        "ad_reward",
        "adunit_exposure",
        "app_clear_data",
        "app_exception",
        "app_install",
        "app_remove",
        "app_store_refund",
        "app_update",
        "app_upgrade",
        "dynamic_link_app_open",
        "dynamic_link_app_update",
        "dynamic_link_first_open",
        "error",
        "first_open",
        "first_visit",
        "in_app_purchase",
        "notification_dismiss",
        "notification_foreground",
        "notification_open",
        "notification_receive",
        "os_update",
        "session_start",
        "screen_view",
        "user_engagement",
    }
)
"""Event names GA4 reserves for itself (``session_start`` is derived here, not sent)."""

ECOMMERCE_EVENTS = (
    "view_item_list",
    "select_item",
    "view_item",
    "add_to_cart",
    "remove_from_cart",
    "view_cart",
    "begin_checkout",
    "add_shipping_info",
    "add_payment_info",
    "purchase",
    "refund",
)
CHECKOUT_ERRORS = frozenset({"exception", "checkout_error"})
"""GA4's ``exception`` (``description``) or Kontor's ``checkout_error`` (``reason``)."""


@dataclass(frozen=True)
class Item:
    sku: str
    quantity: int
    price: Decimal | None = None
    name: str | None = None
    category: str | None = None
    variant: str | None = None


@dataclass(frozen=True)
class Hit:
    """One collected event: its name, when it happened and its parameters as sent."""

    name: str
    at: datetime
    params: Mapping[str, Any]

    @property
    def items(self) -> list[Item]:
        return items_of(self.params)

    @property
    def value(self) -> Decimal | None:
        return decimal_of(self.params.get("value"))

    @property
    def session_id(self) -> str | None:
        """GA4's ``session_id`` parameter (gtag sends it), if the page sent one."""
        raw = self.params.get("session_id")
        if isinstance(raw, bool) or raw is None:
            return None
        text = str(raw).strip()
        return text[:64] or None

    @property
    def error_reason(self) -> str | None:
        if self.name not in CHECKOUT_ERRORS:
            return None
        raw = self.params.get("reason") or self.params.get("description") or "unknown"
        return str(raw)[:100]


@dataclass(frozen=True)
class Source:
    """Where a session came from: GA4's source / medium / campaign."""

    source: str
    medium: str
    campaign: str | None = None

    @property
    def label(self) -> str:
        return f"{self.source} / {self.medium}"


DIRECT = Source("(direct)", "(none)")


def decimal_of(raw: Any) -> Decimal | None:
    """A GA4 number (JSON number or numeric string) as a Decimal, None if it is none."""
    if raw is None or isinstance(raw, bool):
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _quantity(raw: Any) -> int:
    value = decimal_of(raw)
    if value is None or value < 1 or value != value.to_integral_value():
        return 1
    return int(value)


def items_of(params: Mapping[str, Any]) -> list[Item]:
    raw = params.get("items")
    if not isinstance(raw, list):
        return []
    found = []
    for entry in raw:
        if not isinstance(entry, Mapping):
            continue
        sku = entry.get("item_id") or entry.get("item_name")
        if not sku:
            continue
        found.append(
            Item(
                sku=str(sku)[:100],
                quantity=_quantity(entry.get("quantity")),
                price=decimal_of(entry.get("price")),
                name=None if entry.get("item_name") is None else str(entry["item_name"])[:100],
                category=None
                if entry.get("item_category") is None
                else str(entry["item_category"])[:100],
                variant=None
                if entry.get("item_variant") is None
                else str(entry["item_variant"])[:100],
            )
        )
    return found


def _text(params: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        raw = params.get(name)
        if isinstance(raw, str) and raw.strip():
            return raw.strip()[:100]
    return None


def traffic_source(params: Mapping[str, Any]) -> Source | None:
    """The source a hit names: campaign parameters, else the UTM tags of its page, else a
    referrer from another host. None: the hit says nothing (direct, unless told before)."""
    source = _text(params, "campaign_source", "source")
    if source:
        medium = _text(params, "campaign_medium", "medium") or "(not set)"
        return Source(source.lower(), medium.lower(), _text(params, "campaign_name", "campaign"))
    page = _text(params, "page_location") or ""
    query = parse_qs(urlsplit(page).query) if page else {}
    if query.get("utm_source"):
        medium = (query.get("utm_medium") or ["(not set)"])[0]
        campaigns = query.get("utm_campaign")
        campaign = campaigns[0][:100] if campaigns else None
        return Source(query["utm_source"][0].lower()[:100], medium.lower()[:100], campaign)
    referrer = _text(params, "page_referrer")
    if referrer:
        host = (urlsplit(referrer).hostname or "").lower()
        own = (urlsplit(page).hostname or "").lower()
        if host and host != own:
            return Source(host, "referral")
    return None


def truncate_ip(address: str | None) -> str | None:
    """The address with its host part cut: IPv4 to /24, IPv6 to /48; None if no address."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def check_events(
    events: Sequence[tuple[str, Mapping[str, Any], datetime]], now: datetime
) -> list[FieldProblem]:
    """GA4's rules on names, parameter counts and times, with the path of each breach."""
    problems: list[FieldProblem] = []
    for index, (name, params, at) in enumerate(events):
        where: tuple[str | int, ...] = ("events", index)
        if len(name) > MAX_NAME or NAME.fullmatch(name) is None:
            problems.append(
                FieldProblem(
                    (*where, "name"),
                    f"an event name is a letter, then letters, digits or _, at most {MAX_NAME}",
                )
            )
        elif name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES):
            problems.append(FieldProblem((*where, "name"), f"{name!r} is reserved by GA4"))
        if len(params) > MAX_PARAMS:
            problems.append(
                FieldProblem((*where, "params"), f"at most {MAX_PARAMS} parameters per event")
            )
        for key in params:
            if len(key) > MAX_NAME or NAME.fullmatch(key) is None:
                problems.append(FieldProblem((*where, "params", key), "not a GA4 parameter name"))
        items = params.get("items")
        if items is not None and (not isinstance(items, list) or len(items) > MAX_ITEMS):
            problems.append(
                FieldProblem((*where, "params", "items"), f"a list of at most {MAX_ITEMS} items")
            )
        if at < now - MAX_PAST:
            problems.append(
                FieldProblem((*where, "timestamp_micros"), "more than 72 hours in the past")
            )
        elif at > now + MAX_FUTURE:
            problems.append(FieldProblem((*where, "timestamp_micros"), "in the future"))
    return problems


@dataclass(frozen=True)
class RawEvent:
    """A collected event as received: what the figures are rebuilt from."""

    event_id: str
    client_id: str
    user_id: str | None
    hit: Hit
    received_at: datetime
    ip: str | None
    bot: bool
    bot_reason: str | None = None
