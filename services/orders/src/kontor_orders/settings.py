from kontor_contracts.registry import SERVICES
from kontor_servicekit.settings import ServiceSettings
from pydantic import Field


class OrdersSettings(ServiceSettings):
    """Orders settings: ``KONTOR_ORDERS_<FIELD>`` or ``KONTOR_<FIELD>``."""

    service_name = "orders"
    default_http_port = 8002

    max_body_bytes: int = 6 * 1024 * 1024
    """Complaint photos are up to 5 MiB; JSON bodies stay far below."""

    cart_abandon_after_s: float = 2 * 60 * 60
    """A cart in checkout with no activity for this long is abandoned (CartAbandoned)."""
    checkout_price_lock_s: float = 30 * 60
    """How long checkout fixes the prices the customer saw (shown as
    ``prices_locked_until``); an order from the cart within it charges them."""
    cart_sweep_interval_s: float = 60.0
    """How often the service looks for abandoned carts."""
    prepayment_days: int = Field(default=7, ge=1, le=365)
    """A prepayment order unpaid this many days after placement is cancelled; its stock
    goes back (OrderCancelled, reason prepayment_not_received)."""
    prepayment_sweep_interval_s: float = Field(default=3600.0, gt=0)
    """How often the service looks for such orders."""
    withdrawal_rate_limit: int = 10
    """Public withdrawal requests per client address and minute (then 429)."""
    oss_opt_in: bool = False
    """One-Stop-Shop from the first euro (§3c Abs. 4 S. 2 UStG, binding for two calendar
    years): distance sales to consumers abroad carry the destination's rates even below
    the EUR 10,000 threshold (ADR 0026). Billing's ``OSS_OPT_IN`` must say the same."""
    privacy_expected_services: list[str] = Field(
        default_factory=lambda: list(SERVICES),
        description="The services whose answers complete a privacy request (issue 13); "
        'JSON, e.g. ["catalog","orders"]. Every service that holds personal data belongs in it.',
    )
    cart_keep_days: float = Field(default=90, gt=0)
    """A cart (with the e-mail given for it) is deleted this many days after its last
    activity (TTL index ``cart_ttl`` on ``carts.last_activity_at``); an order made from it
    keeps what the contract of sale needs."""
    order_keep_years: int = Field(default=6, ge=6, le=30)
    """Orders, returns and withdrawals are deleted this many years after the end of the
    year (Berlin) of their last change: business letters (§147 (1) Nr. 2, 3 AO, §257
    HGB; at least 6); TTL indexes on ``retention_from`` (ADR 0076)."""
    complaint_keep_years: int = Field(default=6, ge=6, le=30)
    """The same for complaints; their photos go with them (the photo sweep)."""
    photo_sweep_interval_s: float = Field(default=3600, gt=0)
    """How often complaint photos no complaint refers to (and a day old) are deleted."""
    privacy_answer_within_s: float = Field(default=24 * 3600, gt=0)
    """A service that has not answered a privacy request this long after it was asked
    counts as not answering: the request shows ``timed_out`` and who is ``missing``."""
    privacy_sweep_interval_s: float = Field(default=30, gt=0)
    """How often requests are checked for the timeout and their own keys destroyed."""
    public_base_url: str = Field(
        default="http://127.0.0.1:8002",
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="Where customers reach orders' public pages (the links in mails)",
    )
    privacy_link_valid_h: float = Field(default=24, gt=0)
    """How long a mailed privacy-request link can be confirmed."""
    privacy_public_rate_limit: int = Field(default=5, ge=1)
    """Public privacy requests per client address and minute (then 429)."""
    privacy_keep_days: int = Field(default=30, ge=1, le=365)
    """A privacy request (with an export's document) is deleted this many days after it
    was asked for (TTL index on ``privacy_requests.expires_at``)."""
