"""Sealing at the outbox and unsealing at the consumer: the hooks every service shares (ADR 0036).

:class:`EnvelopeSealer` is what the kit puts between a use case and the topics:

- :meth:`EnvelopeSealer.seal` runs when a transaction writes its events to the outbox
  (``Store.sealer``): every personal field (``kontor_contracts.personal``) gets its
  placeholder and the real values travel encrypted in ``sealed``, under the data key of
  the event's *subject*, so no topic, outbox row, dead letter or subscriber store holds
  them in clear, and destroying the key makes every copy unreadable;
- :meth:`EnvelopeSealer.unseal` runs for a consumer that asks for the values
  (``Subscription(unseal=True)``): with the person's key the payload is as it was
  written; once the key is destroyed (the person was erased) it is the placeholders.

Whose key (:func:`subject_of`): an event whose model says ``sealed_per = "aggregate"``
(a privacy request) is sealed with a key of its own aggregate
(:func:`aggregate_subject_id`, destroyed when the request is done); every other event
with the person's: the payload's ``subject_id`` if it has one, else the subject id of
its first e-mail. An event with personal values and no e-mail names nobody whose
erasure could reach it: its values are *redacted* (placeholders, nothing sealed), so
they never travel at all.

:class:`CachedKeyStore` keeps keys for ``ttl_s`` seconds (``privacy_key_cache_ttl_s``):
the key store is read once per person and TTL, not once per event. A destroy through it
forgets the key at once; a destroy by another process reaches this cache after the TTL
at the latest, which bounds how long an erased person's events still open here.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from kontor_contracts.envelope import Envelope
from kontor_contracts.personal import PersonalField, personal_fields
from kontor_contracts.registry import REGISTRY

from kontor_servicekit.privacy.keys import SUBJECT_PREFIX, DataKey, KeyStore, Pseudonyms
from kontor_servicekit.privacy.seal import (
    is_placeholder,
    redact,
    seal_values,
    sealed_of,
    unseal,
)

__all__ = [
    "AGGREGATE_PREFIX",
    "CachedKeyStore",
    "EnvelopeSealer",
    "aggregate_subject_id",
    "fields_of",
    "subject_of",
]

AGGREGATE_PREFIX = "agg_"


@cache
def fields_of(event_type: str, version: int) -> tuple[PersonalField, ...]:
    """The personal fields of a registered event (cached: the models do not change)."""
    return personal_fields(REGISTRY.spec_for(event_type, version).model)


def aggregate_subject_id(pseudonyms: Pseudonyms, topic: str, aggregate_id: str) -> str:
    """The key subject of an aggregate sealed on its own (``agg_<32 hex>``)."""
    return AGGREGATE_PREFIX + pseudonyms.pseudonym(f"aggregate\0{topic}\0{aggregate_id}")


def _email_subject(pseudonyms: Pseudonyms, email: str) -> str:
    # an erased record's placeholder e-mail is p-<subject hex>@pseudonym.invalid
    if is_placeholder(email) and email.startswith("p-"):
        return SUBJECT_PREFIX + email.removeprefix("p-").split("@", 1)[0]
    return pseudonyms.subject_id(email)


def subject_of(envelope: Envelope, pseudonyms: Pseudonyms) -> str | None:
    """Whose key seals ``envelope`` (see the module docstring); None: nobody's."""
    spec = REGISTRY.spec_for(envelope.type, envelope.version)
    if spec.model.sealed_per == "aggregate":
        return aggregate_subject_id(pseudonyms, spec.topic, envelope.aggregate_id)
    subject = envelope.payload.get("subject_id")
    if isinstance(subject, str) and subject:
        return subject
    for field in fields_of(envelope.type, envelope.version):
        if field.kind != "email":
            continue
        node: object = envelope.payload
        for part in field.path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, str) and node:
            return _email_subject(pseudonyms, node)
    return None


class CachedKeyStore:
    """A :class:`KeyStore` that keeps the keys it read for ``ttl_s`` seconds (LRU-bounded).

    A missing key is never cached: another service may make it the next moment."""

    def __init__(
        self,
        store: KeyStore,
        *,
        ttl_s: float,
        max_keys: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self.monotonic = monotonic
        self._keys: OrderedDict[str, tuple[float, DataKey]] = OrderedDict()

    def _cached(self, subject_id: str) -> DataKey | None:
        hit = self._keys.get(subject_id)
        if hit is None:
            return None
        if hit[0] <= self.monotonic():
            del self._keys[subject_id]
            return None
        self._keys.move_to_end(subject_id)
        return hit[1]

    def _keep(self, key: DataKey) -> DataKey:
        if self.ttl_s > 0:
            self._keys[key.subject_id] = (self.monotonic() + self.ttl_s, key)
            self._keys.move_to_end(key.subject_id)
            while len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)
        return key

    async def key_for(self, subject_id: str) -> DataKey:
        return self._cached(subject_id) or self._keep(await self.store.key_for(subject_id))

    async def find(self, subject_id: str) -> DataKey | None:
        cached = self._cached(subject_id)
        if cached is not None:
            return cached
        found = await self.store.find(subject_id)
        return None if found is None else self._keep(found)

    async def destroy(self, subject_id: str) -> bool:
        self._keys.pop(subject_id, None)
        return await self.store.destroy(subject_id)

    def forget(self) -> None:
        """Drop every cached key (tests; an operator after a key store restore)."""
        self._keys.clear()


@dataclass
class EnvelopeSealer:
    """Seals envelopes for the outbox and opens them for consumers (module docstring)."""

    keys: KeyStore
    pseudonyms: Pseudonyms

    async def seal(self, envelope: Envelope) -> Envelope:
        """``envelope`` with its personal values sealed (or redacted, with no subject)."""
        fields = fields_of(envelope.type, envelope.version)
        if not fields or sealed_of(envelope.payload) is not None:
            return envelope
        redacted, values = redact(envelope.payload, fields, self.pseudonyms)
        if not values:
            return envelope  # nothing personal in it (or only placeholders)
        subject = subject_of(envelope, self.pseudonyms)
        if subject is None:
            return envelope.model_copy(update={"payload": redacted})
        key = await self.keys.key_for(subject)
        return envelope.model_copy(update={"payload": seal_values(redacted, values, key)})

    async def unseal(self, envelope: Envelope) -> Envelope:
        """``envelope`` with the real values for a holder of the subject's key, else the
        placeholders (a key destroyed, or destroyed and made anew, opens nothing).
        Raises ``SealBroken`` for a ciphertext the right key does not open."""
        header = sealed_of(envelope.payload)
        if header is None:
            return envelope
        key = await self.keys.find(header.subject_id)
        if key is not None and key.key_id != header.key_id:
            key = None  # the person's key was destroyed; this is a new person's key
        return envelope.model_copy(update={"payload": unseal(envelope.payload, key)})
