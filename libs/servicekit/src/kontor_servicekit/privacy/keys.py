"""Per-person data keys, wrapped by a master key, in a key store every service reads (ADR 0034).

- :class:`MasterKey` (the KEK): 32 random bytes from ``KONTOR_PRIVACY_KEK`` (base64; in
  k8s from the Secret ``kontor-privacy-kek``, ADR 0140) or the file
  ``KONTOR_PRIVACY_KEK_FILE`` (``.kontor/keys/privacy-kek`` on one machine). It never
  leaves the process; the key store only
  ever holds data keys wrapped by it (AES key wrap, RFC 3394, from ``cryptography``).
- :class:`Pseudonyms`: the keyed HMAC (HMAC-SHA256, a key derived from the KEK by
  HKDF) that turns an e-mail into the person's subject id, the same in every service,
  and any personal value into the pseudonym its placeholder carries.
- :class:`DataKey`: one person's AES-256 key. :class:`KeyStore` gets or makes it
  (:meth:`KeyStore.key_for`), finds it (:meth:`KeyStore.find`, None once destroyed)
  and destroys it (:meth:`KeyStore.destroy`: crypto-shredding).
- :class:`MongoKeyStore`: collection ``data_keys`` of the shared database
  ``kontor_keys`` (``KONTOR_PRIVACY_KEYS_MONGO_URL``, by default the service's own
  server; in k8s the replica set ``privacy-keys-mongo``); :class:`InMemoryKeyStore` for
  unit tests, over the same wrapping.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from kontor_servicekit.clock import Clock, utc_now

__all__ = [
    "DATA_KEYS",
    "DataKey",
    "InMemoryKeyStore",
    "KeyStore",
    "MasterKey",
    "MongoKeyStore",
    "Pseudonyms",
    "normalise_email",
]

DATA_KEYS = "data_keys"
KEY_BYTES = 32
SUBJECT_PREFIX = "subj_"


def _b64decode(text: str) -> bytes:
    padded = text.strip() + "=" * (-len(text.strip()) % 4)
    return base64.urlsafe_b64decode(padded)


@dataclass(frozen=True)
class MasterKey:
    """The key-encryption key. ``kek_id`` names it without revealing it (for rotation)."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise ValueError(f"the privacy master key must be {KEY_BYTES} bytes")

    def __repr__(self) -> str:  # never print the secret
        return f"MasterKey({self.kek_id})"

    @property
    def kek_id(self) -> str:
        return "kek-" + hashlib.sha256(b"kontor kek id\0" + self.secret).hexdigest()[:12]

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def from_text(cls, text: str) -> MasterKey:
        """From base64 (standard or URL-safe alphabet) of 32 bytes."""
        return cls(_b64decode(text.replace("+", "-").replace("/", "_")))

    @classmethod
    def from_file(cls, path: Path) -> MasterKey:
        return cls.from_text(Path(path).read_text(encoding="ascii"))

    def to_text(self) -> str:
        return base64.urlsafe_b64encode(self.secret).decode("ascii")

    @classmethod
    def create_file(cls, path: Path) -> MasterKey:
        """Read ``path``, or write a new key there first (0600, never overwritten)."""
        path = Path(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = cls.generate()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(key.to_text() + "\n")
        return cls.from_file(path)

    def wrap(self, data_key: bytes) -> bytes:
        return aes_key_wrap(self.secret, data_key)

    def unwrap(self, wrapped: bytes) -> bytes:
        return aes_key_unwrap(self.secret, wrapped)

    def derive(self, purpose: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose).derive(
            self.secret
        )


def normalise_email(email: str) -> str:
    """The form an e-mail is matched in: NFC, trimmed, case-folded."""
    return unicodedata.normalize("NFC", email).strip().casefold()


class Pseudonyms:
    """Keyed pseudonyms: the same input gives the same output in every service."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def of(cls, master: MasterKey) -> Pseudonyms:
        return cls(master.derive(b"kontor pseudonyms v1"))

    def pseudonym(self, value: str) -> str:
        """32 hex digits of HMAC-SHA256 over the (normalised, for an e-mail) value."""
        text = normalise_email(value) if "@" in value else value
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:32]

    def subject_id(self, email: str) -> str:
        """The person's pseudonymous id, from their e-mail: ``subj_<32 hex>``."""
        return SUBJECT_PREFIX + self.pseudonym(email)


UNKEYED_PSEUDONYMS = Pseudonyms(hashlib.sha256(b"kontor unkeyed pseudonyms v1").digest())
"""The pseudonyms of a service without a master key (ADR 0056): anyone can compute them
from an address. Nothing is sealed then either; with a master key every service uses
``Pseudonyms.of(master)``."""


@dataclass(frozen=True)
class DataKey:
    subject_id: str
    key_id: str
    secret: bytes

    def __repr__(self) -> str:
        return f"DataKey({self.subject_id}, {self.key_id})"


class KeyStore(Protocol):
    async def key_for(self, subject_id: str) -> DataKey:
        """The person's data key, made (once, also under concurrent callers) if missing."""
        ...

    async def find(self, subject_id: str) -> DataKey | None:
        """The person's data key; None if there is none (never made, or destroyed)."""
        ...

    async def destroy(self, subject_id: str) -> bool:
        """Delete the person's data key: every copy sealed with it is unreadable from now.
        True if there was one."""
        ...


def _new_record(master: MasterKey, subject_id: str, now: datetime) -> dict[str, Any]:
    return {
        "_id": subject_id,
        "key_id": "dk-" + secrets.token_hex(8),
        "kek_id": master.kek_id,
        "wrapped": master.wrap(secrets.token_bytes(KEY_BYTES)),
        "created_at": now,
    }


def _key_of(master: MasterKey, record: dict[str, Any]) -> DataKey:
    if record.get("kek_id") != master.kek_id:
        raise ValueError(
            f"data key {record.get('key_id')} is wrapped by {record.get('kek_id')}, "
            f"not by this service's master key {master.kek_id}"
        )
    return DataKey(record["_id"], record["key_id"], master.unwrap(bytes(record["wrapped"])))


class InMemoryKeyStore:
    """A :class:`KeyStore` in a dict (unit tests); wraps keys as the Mongo store does."""

    def __init__(self, master: MasterKey, clock: Clock = utc_now) -> None:
        self.master = master
        self.clock = clock
        self.records: dict[str, dict[str, Any]] = {}

    async def key_for(self, subject_id: str) -> DataKey:
        record = self.records.setdefault(
            subject_id, _new_record(self.master, subject_id, self.clock())
        )
        return _key_of(self.master, record)

    async def find(self, subject_id: str) -> DataKey | None:
        record = self.records.get(subject_id)
        return None if record is None else _key_of(self.master, record)

    async def destroy(self, subject_id: str) -> bool:
        return self.records.pop(subject_id, None) is not None


class MongoKeyStore:
    """Data keys in ``kontor_keys.data_keys``: ``_id`` the subject id, the key wrapped.

    Outside every service transaction on purpose: a key made for a transaction that
    then aborts is harmless (it seals nothing), and a destroy must not wait for one.
    """

    def __init__(self, db: AsyncDatabase[Any], master: MasterKey, clock: Clock = utc_now) -> None:
        self.collection = db[DATA_KEYS]
        self.master = master
        self.clock = clock

    async def key_for(self, subject_id: str) -> DataKey:
        found = await self.find(subject_id)
        if found is not None:
            return found
        record = _new_record(self.master, subject_id, self.clock())
        try:
            await self.collection.insert_one(record)
        except DuplicateKeyError:  # another service made it a moment ago
            existing = await self.collection.find_one({"_id": subject_id})
            if existing is None:  # destroyed in between: make it again
                return await self.key_for(subject_id)
            record = existing
        return _key_of(self.master, record)

    async def find(self, subject_id: str) -> DataKey | None:
        record = await self.collection.find_one({"_id": subject_id})
        return None if record is None else _key_of(self.master, record)

    async def destroy(self, subject_id: str) -> bool:
        result = await self.collection.delete_one({"_id": subject_id})
        return result.deleted_count == 1
