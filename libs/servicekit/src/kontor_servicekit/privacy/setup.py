"""The privacy parts a service gets from its settings (``KONTOR_PRIVACY_*``, ADR 0034)."""

from __future__ import annotations

from dataclasses import dataclass

from kontor_servicekit.blobs import BlobStore
from kontor_servicekit.clock import Clock, utc_now
from kontor_servicekit.domain_errors import Unavailable
from kontor_servicekit.privacy.keys import KeyStore, MasterKey, MongoKeyStore, Pseudonyms
from kontor_servicekit.privacy.participant import EXPORT_PARTS_BUCKET, ExportParts
from kontor_servicekit.privacy.sealing import CachedKeyStore, EnvelopeSealer
from kontor_servicekit.settings import ServiceSettings
from kontor_servicekit.store import Store, create_client

__all__ = ["PrivacyKit", "master_key_of", "privacy_kit"]


def master_key_of(settings: ServiceSettings) -> MasterKey | None:
    """The master key from ``privacy_kek`` (inline) or ``privacy_kek_file``; None if neither."""
    if settings.privacy_kek is not None:
        return MasterKey.from_text(settings.privacy_kek.get_secret_value())
    if settings.privacy_kek_file is not None:
        return MasterKey.from_file(settings.privacy_kek_file)
    return None


@dataclass
class PrivacyKit:
    """The key store and the pseudonyms, or why there are none (no master key set); the
    shared bucket of export parts too large for an event (ADR 0142)."""

    master: MasterKey | None
    store: KeyStore | None
    pseudonyms: Pseudonyms | None
    export_parts: ExportParts | None = None

    @property
    def part_blobs(self) -> BlobStore | None:
        """The bucket itself, for orders, which reads and deletes the parts."""
        if self.export_parts is None or not isinstance(self.export_parts.blobs, BlobStore):
            return None
        return self.export_parts.blobs

    @property
    def sealer(self) -> EnvelopeSealer | None:
        """Seals events at the outbox and opens them for consumers; None without a key."""
        if self.store is None or self.pseudonyms is None:
            return None
        return EnvelopeSealer(self.store, self.pseudonyms)

    def require(self) -> tuple[KeyStore, Pseudonyms]:
        if self.store is None or self.pseudonyms is None:
            raise Unavailable(
                "privacy keys are not configured: set KONTOR_PRIVACY_KEK_FILE or "
                "KONTOR_PRIVACY_KEK (docs/privacy.md)"
            )
        return self.store, self.pseudonyms


def privacy_kit(settings: ServiceSettings, store: Store, clock: Clock = utc_now) -> PrivacyKit:
    """The shared key store (``privacy_keys_database`` on ``privacy_keys_mongo_url``, by
    default the service's own server and client) under the service's master key, read
    through a cache of ``privacy_key_cache_ttl_s``; the bucket ``export_parts`` of the
    same database for export parts above ``privacy_export_inline_max_bytes``."""
    master = master_key_of(settings)
    if master is None:
        return PrivacyKit(None, None, None)
    url = settings.privacy_keys_mongo_url
    client = store.client if url is None else create_client(url, app_name="kontor-keys")
    db = client[settings.privacy_keys_database]
    keys = CachedKeyStore(MongoKeyStore(db, master, clock), ttl_s=settings.privacy_key_cache_ttl_s)
    parts = ExportParts(
        BlobStore(db, EXPORT_PARTS_BUCKET),
        inline_max_bytes=settings.privacy_export_inline_max_bytes,
    )
    return PrivacyKit(master, keys, Pseudonyms.of(master), parts)
