"""Sealing at the outbox, unsealing at the consumer, and the key cache (ADR 0036).

Unit tests over the in-memory key store: whose key seals which event, what a consumer
that asks for the values gets (the values; the placeholders once the key is gone; a
dead letter for a forged ciphertext or a service without keys), and how long a cached
key outlives a destroy elsewhere. The real path (outbox rows, topic bytes, billing's
invoice) is in ``tests/integration/test_sealed_events.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.billing import PaymentReceived
from kontor_contracts.events.orders import CustomerDataExported, DataExportRequested, OrderPlaced
from kontor_contracts.examples import load_example
from kontor_servicekit.consumer import ConsumerRuntime, MessageHandler, Subscription
from kontor_servicekit.privacy.keys import InMemoryKeyStore, MasterKey, Pseudonyms
from kontor_servicekit.privacy.seal import SEALED
from kontor_servicekit.privacy.sealing import (
    CachedKeyStore,
    EnvelopeSealer,
    aggregate_subject_id,
)

from .test_consumer_outcomes import Record, Recorder, StubStore

pytestmark = pytest.mark.unit

MASTER = MasterKey(bytes(range(32)))
PSEUDONYMS = Pseudonyms.of(MASTER)
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def order_placed() -> Envelope:
    return load_example("OrderPlaced")


def sealer() -> tuple[EnvelopeSealer, InMemoryKeyStore]:
    store = InMemoryKeyStore(MASTER)
    return EnvelopeSealer(store, PSEUDONYMS), store


async def test_an_order_is_sealed_with_the_buyers_key_and_opens_to_what_was_written() -> None:
    seal, store = sealer()
    envelope = order_placed()
    sealed = await seal.seal(envelope)
    email = envelope.payload["customer"]["email"]
    subject = PSEUDONYMS.subject_id(email)
    assert sealed.payload[SEALED]["subject_id"] == subject and subject in store.records
    wire = sealed.to_bytes().decode()
    for value in (email, envelope.payload["customer"]["name"]):
        assert value not in wire
    assert envelope.payload["shipping_address"]["street"] not in wire
    assert (sealed.id, sealed.type, sealed.aggregate_id) == (
        envelope.id,
        envelope.type,
        envelope.aggregate_id,
    )
    OrderPlaced.model_validate(sealed.payload)  # a v1 subscriber still reads it
    assert (await seal.unseal(sealed)).payload == envelope.payload


async def test_once_the_key_is_destroyed_the_consumer_gets_the_placeholders() -> None:
    seal, store = sealer()
    sealed = await seal.seal(order_placed())
    await store.destroy(sealed.payload[SEALED]["subject_id"])
    opened = OrderPlaced.model_validate((await seal.unseal(sealed)).payload)
    assert opened.customer.name == "—" and opened.customer.email.endswith("@pseudonym.invalid")
    # a new key of the same person (she buys again) does not open the old events either
    await store.key_for(sealed.payload[SEALED]["subject_id"])
    assert (await seal.unseal(sealed)).payload["customer"]["name"] == "—"


async def test_a_privacy_request_is_sealed_with_its_own_key_not_the_persons() -> None:
    seal, store = sealer()
    event = DataExportRequested(
        request_id="prq_1",
        subject_id=PSEUDONYMS.subject_id("anna@example.de"),
        email="anna@example.de",
        requested_at=NOW,
    )
    sealed = await seal.seal(Envelope.wrap(event, producer="orders", aggregate_id="prq_1"))
    own = aggregate_subject_id(PSEUDONYMS, "orders.privacy_request.v1", "prq_1")
    assert sealed.payload[SEALED]["subject_id"] == own
    await store.destroy(event.subject_id)  # the erasure destroys the person's key at once
    assert (await seal.unseal(sealed)).payload["email"] == "anna@example.de"
    await store.destroy(own)  # and the request's key when the request is done
    assert (await seal.unseal(sealed)).payload["email"].endswith("@pseudonym.invalid")


async def test_an_export_part_is_sealed_with_the_persons_key_from_its_subject_id() -> None:
    seal, _ = sealer()
    subject = PSEUDONYMS.subject_id("anna@example.de")
    event = CustomerDataExported(
        request_id="prq_1",
        service="billing",
        subject_id=subject,
        part={"documents": [{"buyer": "Anna Muster"}]},
        exported_at=NOW,
    )
    sealed = await seal.seal(Envelope.wrap(event, producer="billing", aggregate_id="prq_1"))
    assert sealed.payload["part"] is None and "Anna" not in sealed.to_bytes().decode()
    assert sealed.payload[SEALED]["subject_id"] == subject
    assert (await seal.unseal(sealed)).payload["part"] == event.part


async def test_personal_text_of_nobody_known_is_redacted_not_sealed() -> None:
    seal, store = sealer()
    event = PaymentReceived(
        payment_id="pay-1",
        order_id="o-1",
        amount="10.00",
        currency="EUR",
        method="bank_transfer",
        received_at=NOW,
        reference="Anna Muster, Hauptstr. 1, RE-2026-1",
    )
    sealed = await seal.seal(Envelope.wrap(event, producer="billing", aggregate_id="o-1"))
    assert sealed.payload["reference"] is None and SEALED not in sealed.payload
    assert store.records == {}


async def test_events_without_personal_values_pass_unchanged_and_make_no_key() -> None:
    seal, store = sealer()
    plain = load_example("OrderConfirmed")
    assert await seal.seal(plain) is plain
    erased = order_placed()
    subject = PSEUDONYMS.subject_id(erased.payload["customer"]["email"])
    customer = {"email": f"p-{subject.removeprefix('subj_')}@pseudonym.invalid", "name": "—"}
    erased.payload["customer"] = customer
    for address in ("shipping_address", "billing_address"):
        if erased.payload.get(address):
            erased.payload[address].update(name="—", street="—", company=None)
            erased.payload[address].pop("address_line2", None)
    erased.payload["buyer_vat_id"] = None
    assert await seal.seal(erased) is erased  # an erased order's placeholders stay as they are
    assert store.records == {}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_the_cache_keeps_a_key_for_its_ttl_and_forgets_a_destroyed_one_at_once() -> None:
    backing, clock = InMemoryKeyStore(MASTER), Clock()
    cached = CachedKeyStore(backing, ttl_s=60, monotonic=clock)
    assert await cached.find("subj_a") is None
    key = await backing.key_for("subj_a")  # another service makes it: no cached "none"
    assert await cached.find("subj_a") == key
    await backing.destroy("subj_a")  # destroyed elsewhere: still open here within the TTL
    assert await cached.find("subj_a") == key
    clock.now += 61
    assert await cached.find("subj_a") is None
    mine = await cached.key_for("subj_b")
    assert await cached.destroy("subj_b") and await cached.find("subj_b") is None
    assert mine.subject_id == "subj_b"


async def test_the_cache_is_bounded() -> None:
    cached = CachedKeyStore(InMemoryKeyStore(MASTER), ttl_s=60, max_keys=2)
    for subject in ("subj_a", "subj_b", "subj_c"):
        await cached.key_for(subject)
    assert len(cached._keys) == 2 and "subj_a" not in cached._keys


# ------------------------------------------------------------------ the consumer


def handler(
    unseal: bool, unsealer: EnvelopeSealer | None
) -> tuple[MessageHandler, list[OrderPlaced], Recorder]:
    seen: list[OrderPlaced] = []

    async def on_placed(event: Any, uow: Any, env: Envelope) -> None:
        seen.append(event)

    recorder = Recorder()
    runtime = ConsumerRuntime(
        service="billing",
        store=StubStore(),  # type: ignore[arg-type]
        producer=recorder,
        metrics=recorder,
        retry_backoff_s=0,
        redeliver_pause_s=0,
        unsealer=unsealer,
    )
    subscription = Subscription(purpose="test", handlers={OrderPlaced: on_placed}, unseal=unseal)
    return MessageHandler(runtime, subscription), seen, recorder


async def test_a_subscription_that_asks_gets_the_values_the_others_the_placeholders() -> None:
    seal, _ = sealer()
    value = (await seal.seal(order_placed())).to_bytes()
    name = order_placed().payload["customer"]["name"]
    asks, seen, _ = handler(True, seal)
    assert await asks.handle_record(value, Record(value)) == "handled"
    others, seen_by_others, _ = handler(False, seal)
    assert await others.handle_record(value, Record(value)) == "handled"
    assert seen[0].customer.name == name and seen_by_others[0].customer.name == "—"


async def test_a_forged_ciphertext_is_dead_lettered() -> None:
    seal, _ = sealer()
    sealed = await seal.seal(order_placed())
    body = json.loads(sealed.to_bytes())
    other = await seal.seal(load_example("OrderPlaced"))
    body["payload"][SEALED]["ciphertext"] = other.payload[SEALED]["ciphertext"]
    value = json.dumps(body).encode()
    asks, seen, recorder = handler(True, seal)
    assert await asks.handle_record(value, Record(value)) == "dead_lettered"
    assert recorder.sent[0][1]["kontor_dlt_error_type"] == b"SealBroken" and seen == []


async def test_a_sealed_event_in_a_service_without_keys_is_parked_not_read_as_placeholders() -> (
    None
):
    seal, _ = sealer()
    value = (await seal.seal(order_placed())).to_bytes()
    asks, seen, recorder = handler(True, None)
    assert await asks.handle_record(value, Record(value)) == "dead_lettered"
    assert recorder.sent[0][1]["kontor_dlt_error_type"] == b"SealedWithoutKeys" and seen == []
