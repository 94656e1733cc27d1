from urllib.parse import urlsplit

from kontor_servicekit.settings import ServiceSettings
from pydantic import Field, SecretStr, field_validator


class AnalyticsSettings(ServiceSettings):
    """Analytics settings: ``KONTOR_ANALYTICS_<FIELD>`` or ``KONTOR_<FIELD>``."""

    service_name = "analytics"
    default_http_port = 8006

    collect_measurement_id: str = Field(
        default="G-KONTOR",
        min_length=1,
        max_length=64,
        description="The measurement id a storefront names in POST /collect?measurement_id=",
    )
    collect_api_secret: SecretStr | None = Field(
        default=None,
        description="When set, POST /collect needs it as ?api_secret= (GA4's name); a wrong "
        "one is a 403. Unset: the measurement id alone admits (it is public in every page).",
    )
    collect_allowed_origins: list[str] = Field(
        default_factory=list,
        description="The origins whose pages may post to /collect from the browser (CORS, "
        'the shop\'s own: JSON, e.g. ["https://shop.example"]; "*": any). Empty: only '
        "pages served under the service's own origin (ADR 0098)",
    )
    collect_consent_required: bool = Field(
        default=False,
        description="Refuse (422) a request whose consent.analytics_storage is not GRANTED",
    )
    collect_max_events_per_minute: int = Field(
        default=120,
        ge=1,
        description="More events than this from one client id within a minute mark its "
        "further events as bot traffic (kept raw, left out of the figures)",
    )
    collect_store_ip: bool = Field(
        default=True,
        description="Keep the truncated client address (IPv4 /24, IPv6 /48) with the raw "
        "event; false keeps none. The full address is never stored.",
    )
    raw_events_ttl_days: int = Field(
        default=30,
        ge=1,
        le=400,
        description="Raw collected events (and the truncated addresses in them) are deleted "
        "this many days after receipt (TTL index); sessions older than that cannot be rebuilt",
    )
    sessions_keep_days: int = Field(
        default=425,
        ge=1,
        le=1200,
        description="Sessions (client and user ids, source, what was viewed and bought) are "
        "deleted this many days after their last hit (TTL); the default, 14 months as GA4's "
        "longest retention, keeps a year's comparison. Longer than raw_events_ttl_days: "
        "older sessions cannot be rebuilt, only kept",
    )
    session_timeout_min: int = Field(
        default=30, ge=1, le=240, description="A session ends after this much inactivity"
    )
    promised_ship_hours: int = Field(
        default=48,
        ge=1,
        description="Orders shipped within this many hours of being placed count as on time",
    )
    alert_interval_s: float = Field(
        default=60.0, gt=0, description="How often the alert rules are evaluated"
    )
    dashboard_cookie_secure: bool = Field(
        default=True, description="The dashboard's session cookie is sent over HTTPS only"
    )
    dashboard_session_hours: int = Field(
        default=8, ge=1, le=24, description="A dashboard session cookie lasts this long"
    )

    @field_validator("collect_allowed_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin == "*":
                continue
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.netloc
                or origin != (f"{parts.scheme}://{parts.netloc}")
            ):
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port], no path)")
        return origins
