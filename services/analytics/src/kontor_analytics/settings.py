from kontor_servicekit.settings import ServiceSettings
from pydantic import Field, SecretStr


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
