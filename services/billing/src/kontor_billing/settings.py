from typing import Literal

from kontor_servicekit.settings import ServiceSettings
from pydantic import Field, SecretStr


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
    refund_provider_url: str | None = Field(
        default=None,
        description="Base URL of the card/wallet provider's Stripe-shaped API "
        "(https://api.stripe.com); unset: card refunds wait (the payout item says why)",
    )
    refund_provider_secret: SecretStr | None = Field(
        default=None, description="The provider's secret key (bearer token of POST /v1/refunds)"
    )
    refund_sweep_interval_s: float = Field(
        default=30.0, gt=0, description="How often pending card refunds are sent to the provider"
    )
    datev_chart: Literal["SKR03", "SKR04"] = Field(
        default="SKR03", description="The chart of accounts of the DATEV export"
    )
    datev_accounts: dict[str, str] = Field(
        default_factory=dict,
        description="Accounts other than the chart's defaults, by name (revenue_standard, "
        "revenue_reduced, revenue_intra_eu, revenue_export, revenue_small_business, "
        "revenue_oss, bank, provider_clearing, debtors, creditors, expense, skonto_received)",
    )
    datev_advisor: int = Field(
        default=1001, ge=1001, le=9999999, description="Beraternummer of the EXTF header"
    )
    datev_client: int = Field(
        default=1, ge=1, le=99999, description="Mandantennummer of the EXTF header"
    )
    datev_fiscal_year_start_month: int = Field(
        default=1, ge=1, le=12, description="The month the fiscal year starts (WJ-Beginn)"
    )
    datev_lock: bool = Field(
        default=False,
        description="Mark exported bookings as fixed (Festschreibung 1); default: the "
        "accountant fixes them after the import",
    )
    #: Bank statement files are up to 10 MiB (checked by the route); the multipart
    #: envelope adds a little.
    max_body_bytes: int = 11 * 1024 * 1024
