from kontor_servicekit.mail.receiver import DEFAULT_MAX_BYTES
from kontor_servicekit.settings import ServiceSettings
from pydantic import Field, SecretStr


class MarketingSettings(ServiceSettings):
    """Marketing settings: ``KONTOR_MARKETING_<FIELD>`` or ``KONTOR_<FIELD>``."""

    service_name = "marketing"
    default_http_port = 8005

    public_base_url: str = Field(
        default="http://127.0.0.1:8005",
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="Where people reach the public newsletter routes (links in mails)",
    )
    shop_url: str = Field(
        default="https://shop.example",
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="The storefront, linked from the back-in-stock mail",
    )
    link_secret: SecretStr | None = Field(
        default=None,
        description="Signs the links in marketing mails (at least 16 bytes). Unset: "
        "derived from the privacy master key; neither set: subscriptions answer 503",
    )
    utm_source: str = Field(
        default="kontor",
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="utm_source on the shop links of campaign and flow mails (with "
        "utm_medium=email, utm_campaign the campaign's id or flow-<name>; ADR 0121)",
    )
    confirm_link_hours: int = Field(
        default=48, ge=1, le=24 * 30, description="How long a confirmation link is valid"
    )
    subscribe_rate_limit: int = Field(
        default=10, ge=1, description="Public newsletter requests per minute and client address"
    )
    imprint: str = Field(
        default="Kontor Beispiel GmbH · Hauptstr. 1 · 10115 Berlin · HRB 000000 B · "
        "Geschäftsführung: Erika Muster",
        min_length=1,
        description="The seller's imprint (Impressum) in every mail's footer",
    )
    mail_sweep_interval_s: float = Field(
        default=2.0, gt=0, description="How often the queued mails are sent"
    )
    mail_per_round: int = Field(
        default=50, ge=1, description="At most this many mails per sweep (the send rate)"
    )
    segment_refresh_interval_s: float = Field(
        default=3600.0, gt=0, description="How often rules on time (recency) are re-decided"
    )
    frequency_cap_per_week: int = Field(
        default=2, ge=1, le=50, description="At most this many campaign mails per person in 7 days"
    )
    quiet_hours: str = Field(
        default="21:00-08:00",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="No campaign or flow mail leaves in these hours (Europe/Berlin): one "
        "due then waits for their end; the double opt-in confirmation does not (ADR 0119)",
    )
    campaign_sweep_interval_s: float = Field(
        default=5.0, gt=0, description="How often scheduled campaigns are looked at"
    )
    attribution_window_days: int = Field(
        default=5, ge=1, le=90, description="An order within this many days of a click counts"
    )
    cart_reminder_after_s: float = Field(
        default=3600.0,
        ge=0,
        description="The abandoned-cart reminder leaves this long after "
        "CartAbandoned, unless the person ordered meanwhile",
    )
    review_request_after_days: float = Field(
        default=7,
        ge=0,
        le=90,
        description="The review request leaves this long after the delivery (consent to news)",
    )
    win_back_after_days: float = Field(
        default=90,
        gt=0,
        le=3650,
        description="A win-back mail (consent to offers) when the newest order is this old",
    )
    uwg_7_3_existing_customers: bool = Field(
        default=False,
        description="UWG §7 Abs. 3: advertise similar goods by e-mail to existing customers "
        "who gave their address with a purchase and did not object, with an objection "
        "link in every mail. Off: only double opt-in consent counts (docs/adr/0051)",
    )
    bounce_address: str = Field(
        default="bounces@kontor.local",
        pattern=r"^[^\s@+]+@[^\s@]+$",
        description="The envelope sender of marketing mail (VERP: bounces+<mail id>@...): "
        "where relays send bounces; route it, and the complaint feedback loops, to the "
        "receiver below (docs/adr/0055)",
    )
    smtp_receiver: bool = Field(
        default=True, description="Receive bounces and complaints over SMTP (the kit's receiver)"
    )
    smtp_receiver_host: str = "127.0.0.1"
    smtp_receiver_port: int = Field(
        default=2526, ge=0, le=65535, description="The bounce receiver's port; 0: any free port"
    )
    smtp_receiver_max_bytes: int = Field(
        default=DEFAULT_MAX_BYTES, ge=1024, description="The largest report mail taken"
    )
