from typing import Literal

from kontor_servicekit.settings import ServiceSettings
from pydantic import Field


class BillingSettings(ServiceSettings):
    """Billing settings: ``KONTOR_BILLING_<FIELD>`` or ``KONTOR_<FIELD>``."""

    service_name = "billing"
    default_http_port = 8003

    invoice_on: Literal["confirmed", "shipped"] = Field(
        default="confirmed",
        description="The event an order is invoiced on: its OrderConfirmed or its first "
        "OrderShipped (then the shipment's date is the date of supply)",
    )
    example_seller: bool = Field(
        default=True,
        description="Until the merchant PUTs /seller, issue with an example seller and mark "
        "every document a sample; false: invoices wait (and /health/ready says why)",
    )
    small_business: bool = Field(
        default=False, description="§19 UStG small-business mode: no VAT shown, the note instead"
    )
    invoice_prefix: str = Field(default="RE-", min_length=1, max_length=8)
    cancellation_prefix: str = Field(default="ST-", min_length=1, max_length=8)
    correction_prefix: str = Field(default="KR-", min_length=1, max_length=8)
    quote_prefix: str = Field(
        default="AN-", min_length=1, max_length=8, description="Quotes' number range prefix"
    )
    quote_validity_days: int = Field(
        default=30, ge=1, le=365, description="A quote's validity when valid_until is not given"
    )
    quote_sweep_interval_s: float = Field(
        default=60, gt=0, description="How often open quotes past valid_until are expired"
    )
