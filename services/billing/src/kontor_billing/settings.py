from datetime import date
from decimal import Decimal
from typing import Literal

from kontor_servicekit.settings import ServiceSettings
from pydantic import Field, SecretStr

from kontor_billing.domain.retention import RetentionPeriods


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
    oss_opt_in: bool = Field(
        default=False,
        description="The merchant opted in to the One-Stop-Shop from the first euro (§3c "
        "Abs. 4 S. 2 UStG); must match orders' OSS_OPT_IN, which prices the orders (ADR 0026)",
    )
    retention_booking_voucher_years: int = Field(
        default=8,
        ge=8,
        le=30,
        description="§147 Abs. 3 AO: invoices, cancellations, corrections (and later payments, "
        "incoming invoices), from the end of the calendar year (ADR 0027)",
    )
    retention_books_and_records_years: int = Field(
        default=10, ge=10, le=30, description="§147 Abs. 3 AO: the audit log, journals, exports"
    )
    retention_business_letter_years: int = Field(
        default=6, ge=6, le=30, description="§147 Abs. 3 AO: quotes, dunning letters"
    )

    @property
    def retention_periods(self) -> RetentionPeriods:
        return RetentionPeriods(
            booking_voucher=self.retention_booking_voucher_years,
            books_and_records=self.retention_books_and_records_years,
            business_letter=self.retention_business_letter_years,
        )

    #: Incoming invoices and bank statements (issue 12) are files of up to 10 MiB (checked
    #: by their routes); the multipart envelope and the optional form fields add a little.
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
    datev_party_accounts: Literal["collective", "personal"] = Field(
        default="collective",
        description="Debtors and creditors on the chart's collective accounts (1400/1600 "
        "SKR03), or on personal accounts, one per customer e-mail (10000-69999) and "
        "supplier (70000-99999), numbered on first export (ADR 0074)",
    )
    datev_lock: bool = Field(
        default=False,
        description="Mark exported bookings as fixed (Festschreibung 1); default: the "
        "accountant fixes them after the import",
    )
    #: Bank statement files are up to 10 MiB (checked by the route); the multipart
    #: envelope adds a little.
    max_body_bytes: int = 11 * 1024 * 1024
    incoming_chart: Literal["SKR03", "SKR04"] = Field(
        default="SKR03",
        description="The chart of accounts approvals book to (the default account's chart)",
    )
    incoming_expense_account: str | None = Field(
        default=None,
        pattern="^[0-9]{4,8}$",
        description="The expense account of an approval that names none and whose supplier "
        "has none: by default 3400 (SKR03) or 5400 (SKR04), Wareneingang 19 % Vorsteuer",
    )
    incoming_supplier_accounts: dict[str, str] = Field(
        default_factory=dict,
        description='Expense account per supplier, by VAT id or name, as JSON: {"DE136695976": '
        '"4930"}',
    )
    stripe_webhook_secret: SecretStr | None = Field(
        default=None,
        description="The Stripe endpoint's signing secret (whsec_...); unset: POST "
        "/webhooks/stripe refuses every event (400)",
    )
    stripe_webhook_tolerance_s: int = Field(
        default=300,
        ge=1,
        le=3600,
        description="How old a webhook's signed timestamp may be (a replay guard)",
    )
    dunning_enabled: bool = Field(
        default=True, description="Run the dunning sweep (reminders and dunning notices)"
    )
    dunning_sweep_interval_s: float = Field(default=3600, gt=0, le=86_400)
    dunning_reminder_days: int = Field(
        default=7, ge=1, le=365, description="Payment reminder this many days after the due date"
    )
    dunning_reminder_fee: Decimal = Field(default=Decimal("0.00"), ge=0, le=1000)
    dunning_first_notice_days: int = Field(
        default=14, ge=1, le=365, description="1st dunning notice this many days after the reminder"
    )
    dunning_first_notice_fee: Decimal = Field(default=Decimal("2.50"), ge=0, le=1000)
    dunning_second_notice_days: int = Field(
        default=14, ge=1, le=365, description="2nd dunning notice this many days after the 1st"
    )
    dunning_second_notice_fee: Decimal = Field(default=Decimal("5.00"), ge=0, le=1000)
    dunning_pay_within_days: int = Field(
        default=10, ge=1, le=90, description="The new deadline each reminder or notice sets"
    )
    dunning_prefix: str = Field(default="MA-", min_length=1, max_length=8)
    dunning_base_rates: dict[date, Decimal] = Field(
        default_factory=dict,
        description="Basiszinssatz values (percent) by the day they apply from, added to "
        'the built-in table, e.g. {"2027-01-01": "1.27"} (ADR 0029: keep it current)',
    )
    quote_prefix: str = Field(
        default="AN-", min_length=1, max_length=8, description="Quotes' number range prefix"
    )
    quote_validity_days: int = Field(
        default=30, ge=1, le=365, description="A quote's validity when valid_until is not given"
    )
    quote_sweep_interval_s: float = Field(
        default=60, gt=0, description="How often open quotes past valid_until are expired"
    )
