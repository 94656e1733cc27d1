"""Settings shared by every service.

Every field can be set per service (``KONTOR_<SERVICE>_<FIELD>``) or for the whole
platform (``KONTOR_<FIELD>``); the per-service value wins. That keeps one
ConfigMap for the shared addresses and lets an operator override one service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEFAULT_KAFKA_MAX_MESSAGE_BYTES = 1_048_576
DEFAULT_EXPORT_INLINE_MAX_BYTES = 736 * 1024
"""The largest export part an answer carries in its event (ADR 0142): sealed (base64 of
the ciphertext, a third more) with its envelope it stays 40 KiB under the 1 MiB message."""
SEALED_EXPORT_HEADROOM_BYTES = 16 * 1024
"""What a sealed answer needs besides its part's 4/3: envelope, seal header, record headers
(about 1 KiB measured, 2026-12-04)."""
"""1 MiB, Apache Kafka's own default for producers, fetches and topics."""


class ServiceSettings(BaseSettings):
    """Base class; each service subclasses it and sets ``service_name``."""

    service_name: ClassVar[str] = "service"
    default_http_port: ClassVar[int] = 8000

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_idempotent: bool = Field(
        default=True,
        description="Idempotent producer: on for Apache Kafka, off for the embedded broker.",
    )
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_username: str | None = None
    kafka_password: SecretStr | None = None
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    kafka_rebalance_timeout_ms: int = Field(
        default=30_000,
        description="How long a rebalance waits for members to rejoin (aiokafka's default "
        "is max_poll_interval_ms, 5 minutes, which stalls a group after a member vanished).",
    )
    kafka_max_message_bytes: int = Field(
        default=DEFAULT_KAFKA_MAX_MESSAGE_BYTES,
        ge=16_384,
        description="The largest Kafka message, one limit everywhere: the producer's "
        "max_request_size, the consumers' max_partition_fetch_bytes, the topics' "
        "max.message.bytes (where Kontor creates them; Strimzi's KafkaTopics in k8s). A "
        "consumed message above it is dead-lettered without being handled.",
    )
    kafka_ensure_topics: bool = Field(
        default=False,
        description="Create missing topics at start (one machine, tests); Strimzi does in k8s.",
    )
    topic_prefix: str = Field(
        default="", description="Prepended to every topic and consumer group (test isolation)."
    )

    mongo_url: str = "mongodb://127.0.0.1:27017/?retryWrites=false&directConnection=true"
    mongo_database: str = ""

    http_host: str = "127.0.0.1"
    http_port: int = Field(
        default=-1, description="-1: the service's default port; 0: any free port"
    )
    max_body_bytes: int = 1_048_576
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or CIDR ranges of the reverse proxies whose "
        "X-Forwarded-For / X-Forwarded-Proto are believed (the ingress controller's pods "
        "in k8s). Empty (the default): no proxy is trusted, forwarded headers are ignored "
        "and the client address is the socket's, so a made-up X-Forwarded-For cannot "
        "dodge a per-address rate limit.",
    )

    auth_public_key: str | None = None
    auth_public_key_file: Path | None = None
    auth_issuer: str = "kontor-local"
    auth_audience: str = "kontor"

    otlp_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP endpoint; traces are not exported when unset."
    )
    log_level: str = "INFO"

    smtp_host: str = Field(
        default="127.0.0.1",
        description="The SMTP relay every outgoing mail goes to: the local mail sink in "
        "`make run` (one .eml per message under .kontor/mail/), the relay in production.",
    )
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        default="none", description="none on one machine (loopback); starttls or tls to a relay."
    )
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=30.0, gt=0)
    mail_from: str = Field(
        default="Kontor <noreply@kontor.local>",
        description="The From of mail that names none; its domain is the Message-IDs'.",
    )

    outbox_poll_interval_s: float = 0.5
    outbox_batch_size: int = 500
    outbox_lease_s: float = 10.0
    outbox_max_attempts: int = Field(
        default=5,
        description="Tries of one outbox row before it is kept as failed for an admin retry "
        "(broker outages do not count: they are retried until the broker is back).",
    )
    outbox_retry_backoff_s: float = Field(
        default=1.0, description="Wait before the 2nd try of a failed outbox row; doubles."
    )
    outbox_retry_backoff_max_s: float = 60.0
    consumer_max_attempts: int = 5
    consumer_retry_backoff_s: float = 0.2
    consumer_batch_max_events: int = Field(
        default=50,
        ge=1,
        le=500,
        description="At most this many fetched events are handled in one transaction (one "
        "inbox write, one commit); 1 gives every event a transaction of its own.",
    )
    consumer_batch_time_budget_s: float = Field(
        default=1.0,
        gt=0,
        le=3.0,
        description="No further event joins a consumer transaction that has run this long "
        "(it must commit inside the database's 5 s transaction lifetime).",
    )
    consumer_batch_timeout_ms: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="How long an idle consumer's fetch waits for records (then as long "
        "again before the next): the most an event waits for its consumer when idle.",
    )
    shutdown_grace_s: float = 20.0

    outbox_sent_keep_days: float = Field(
        default=7, gt=0, description="How long a published outbox row is kept (TTL)."
    )
    inbox_keep_days: float = Field(
        default=30,
        gt=0,
        description="How long a handled event's id is kept against redeliveries (TTL).",
    )
    dead_letter_keep_days: float = Field(
        default=28,
        gt=0,
        description="How long a parked message (its whole payload) is kept in dead_letters "
        "(TTL); the dead-letter topics keep theirs as long (deploy/k8s).",
    )

    privacy_kek: SecretStr | None = Field(
        default=None,
        description="The privacy master key (base64 of 32 bytes) that wraps every person's "
        "data key (ADR 0034); in k8s from the Secret kontor-privacy-kek (ADR 0140).",
    )
    privacy_kek_file: Path | None = Field(
        default=None,
        description="File holding the privacy master key: .kontor/keys/privacy-kek on one "
        "machine (make run). Unset (and no privacy_kek): no sealing, and "
        "privacy requests answer 503.",
    )
    privacy_keys_mongo_url: str | None = Field(
        default=None,
        description="The server of the shared key store; unset: the service's own server "
        "(k8s: the replica set privacy-keys-mongo, ADR 0140).",
    )
    privacy_keys_database: str = Field(
        default="kontor_keys", description="The shared key store's database (data_keys)."
    )
    privacy_export_inline_max_bytes: int = Field(
        default=DEFAULT_EXPORT_INLINE_MAX_BYTES,
        ge=1,
        description="The largest part of a data export an answer carries in its event; a "
        "larger one is stored in the privacy database's export_parts bucket and the event "
        "names it (blob_ref, its size and SHA-256, ADR 0142). Sealed (4/3 of it) with 16 "
        "KiB for the envelope it must fit kafka_max_message_bytes.",
    )
    privacy_key_cache_ttl_s: float = Field(
        default=60.0,
        ge=0,
        description="How long a process keeps a person's data key it read (0: not at all). "
        "Bounds how long an erasure by another service still lets this one open the "
        "person's sealed events (ADR 0036).",
    )

    @model_validator(mode="after")
    def _defaults_per_service(self) -> ServiceSettings:
        if not self.mongo_database:
            self.mongo_database = f"kontor_{self.service_name}"
        if self.http_port < 0:
            self.http_port = self.default_http_port
        sealed = -(-self.privacy_export_inline_max_bytes * 4 // 3) + SEALED_EXPORT_HEADROOM_BYTES
        if sealed > self.kafka_max_message_bytes:
            raise ValueError(
                f"privacy_export_inline_max_bytes ({self.privacy_export_inline_max_bytes}) "
                f"sealed is about {sealed} bytes with its envelope, more than "
                f"kafka_max_message_bytes ({self.kafka_max_message_bytes})"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        service_env = EnvSettingsSource(
            settings_cls, env_prefix=f"KONTOR_{cls.service_name.upper()}_"
        )
        platform_env = EnvSettingsSource(settings_cls, env_prefix="KONTOR_")
        return (init_settings, service_env, platform_env, file_secret_settings)

    def public_key_pem(self) -> str | None:
        """The JWT verification key, inline or from a file."""
        if self.auth_public_key:
            return self.auth_public_key
        if self.auth_public_key_file is not None:
            return self.auth_public_key_file.read_text()
        return None

    def topic(self, name: str) -> str:
        """The physical topic name for a contract topic."""
        return f"{self.topic_prefix}{name}"

    def group(self, name: str) -> str:
        """The physical consumer group name for a purpose (``billing.invoicing``)."""
        return f"{self.topic_prefix}{name}"

    def faststream_security(self) -> Any:
        """The same credentials for FastStream's consumers as for the producer."""
        from faststream.security import SASLPlaintext, SASLScram256, SASLScram512

        if not self.kafka_sasl_mechanism:
            return None
        kinds = {
            "PLAIN": SASLPlaintext,
            "SCRAM-SHA-256": SASLScram256,
            "SCRAM-SHA-512": SASLScram512,
        }
        try:
            kind = kinds[self.kafka_sasl_mechanism.upper()]
        except KeyError:
            raise ValueError(f"unsupported SASL mechanism {self.kafka_sasl_mechanism!r}") from None
        password = self.kafka_password.get_secret_value() if self.kafka_password else ""
        return kind(
            username=self.kafka_username or "",
            password=password,
            use_ssl=self.kafka_security_protocol.upper().startswith("SASL_SSL"),
        )

    def kafka_client_options(self) -> dict[str, Any]:
        """Connection options shared by producers, consumers and admin clients."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.kafka_bootstrap,
            "security_protocol": self.kafka_security_protocol,
        }
        if self.kafka_sasl_mechanism:
            options["sasl_mechanism"] = self.kafka_sasl_mechanism
            options["sasl_plain_username"] = self.kafka_username
            if self.kafka_password is not None:
                options["sasl_plain_password"] = self.kafka_password.get_secret_value()
        return options


SETTINGS_CLASSES = {
    "catalog": "CatalogSettings",
    "orders": "OrdersSettings",
    "billing": "BillingSettings",
    "support": "SupportSettings",
    "marketing": "MarketingSettings",
    "analytics": "AnalyticsSettings",
}


def settings_for(service: str, **values: Any) -> ServiceSettings:
    """The settings of ``service`` (read from the environment, ``values`` win).

    For commands that act for a service (rebuild, AsyncAPI generation): the service's
    package must be installed, which it is in its own image.
    """
    import importlib

    module = importlib.import_module(f"kontor_{service}.settings")
    cls: type[ServiceSettings] = getattr(module, SETTINGS_CLASSES[service])
    return cls(**values)


def trusted_proxy_list(value: str) -> list[str]:
    """``trusted_proxies`` as uvicorn's ``forwarded_allow_ips`` (blank entries dropped)."""
    return [part.strip() for part in value.split(",") if part.strip()]
