from typing import Literal, Self

from kontor_servicekit.mail.receiver import DEFAULT_MAX_BYTES
from kontor_servicekit.settings import ServiceSettings
from pydantic import Field, SecretStr, model_validator


class SupportSettings(ServiceSettings):
    """Support settings: ``KONTOR_SUPPORT_<FIELD>`` or ``KONTOR_<FIELD>``."""

    service_name = "support"
    default_http_port = 8004

    mail_domain: str = Field(
        default="support.kontor.local",
        min_length=1,
        max_length=200,
        description="Domain of the Message-IDs of support's mails",
    )
    holiday_state: str = Field(
        default="BE",
        pattern=r"^[A-Z]{2}$",
        description="German state whose public holidays are no business days for SLAs",
    )
    sla_sweep_interval_s: float = Field(
        default=30.0, gt=0, description="How often SLA deadlines and pending dates are checked"
    )
    mail_from: str = Field(
        default="Kontor Kundenservice <support@kontor.local>",
        description="The From of support's mails: the address customers answer to",
    )
    smtp_receiver: bool = Field(
        default=True, description="Receive mail over SMTP (the kit's receiver, aiosmtpd)"
    )
    smtp_receiver_host: str = "127.0.0.1"
    smtp_receiver_port: int = Field(
        default=2525, ge=0, le=65535, description="The SMTP receiver's port; 0: any free port"
    )
    smtp_receiver_accept: str = Field(
        default="",
        max_length=2000,
        description="Recipients accepted, comma-separated addresses and @domains; "
        "empty (make run's default): any recipient",
    )
    smtp_receiver_max_bytes: int = Field(
        default=DEFAULT_MAX_BYTES, ge=1024, description="The largest mail accepted (SMTP SIZE)"
    )
    mail_send_interval_s: float = Field(
        default=2.0, gt=0, description="How often queued e-mail replies are sent"
    )
    chat_token_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key of the chats' customer tokens; the same on every replica. "
        "Unset: a random key per process (tokens end with a restart; one machine only)",
    )
    chat_token_ttl_s: int = Field(
        default=86_400, ge=60, description="How long a chat's customer token admits"
    )
    chat_push_interval_s: float = Field(
        default=0.25, gt=0, description="How often agents' chat replies and typing are pushed"
    )
    chat_email_after_s: float = Field(
        default=300.0,
        gt=0,
        description="An agent's chat reply no socket took within this becomes an e-mail "
        "(the customer left; the ticket continues by mail if they gave an address)",
    )
    chat_open_rate_limit: int = Field(
        default=20, ge=1, description="POST /chats per client address and minute"
    )
    chat_attachment_max_bytes: int = Field(
        default=5 * 1024 * 1024,
        ge=1024,
        description="The largest file sent into a chat (POST /chats/{id}/attachments); "
        "images and PDFs, at most max_body_bytes less 64 KiB for the multipart envelope",
    )
    #: Chat files are up to 5 MiB (checked per route); the multipart envelope adds a little.
    max_body_bytes: int = 6 * 1024 * 1024
    contact_webhook_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key of POST /webhooks/contacts (telephony, social tools); "
        "unset: the webhook refuses every request",
    )
    return_instructions: str = Field(
        default="Bitte melden Sie die Rücksendung unter /withdrawals an; Sie erhalten "
        "dann das Rücksendeetikett per E-Mail.",
        min_length=1,
        max_length=2000,
        description="The macros' {{return_instructions}}",
    )
    undelivered_after_days: int = Field(
        default=7,
        ge=1,
        le=60,
        description="An order shipped this many days ago and not delivered opens a ticket",
    )
    last_dunning_level: int = Field(
        default=3, ge=1, description="PaymentOverdue at this dunning level opens a ticket"
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8004",
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="Where customers reach support's public pages (the rating links)",
    )
    rating_mail: bool = Field(
        default=True,
        description="Ask the customer to rate a ticket when it is first solved (a mail)",
    )
    rating_link_secret: SecretStr | None = Field(
        default=None,
        description="Signs the rating links (at least 16 bytes). Unset: derived from the "
        "privacy master key; neither set: no rating mails (the rating pages answer 503)",
    )
    rating_link_days: int = Field(
        default=30, ge=1, le=365, description="How long a rating link can be clicked"
    )
    imap_host: str | None = Field(
        default=None,
        min_length=1,
        max_length=253,
        description="Poll this IMAP server's mailbox for mail in (unset: no IMAP polling)",
    )
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Literal["tls", "starttls", "none"] = Field(
        default="tls", description="tls (IMAPS, 993), starttls (143) or none (tests only)"
    )
    imap_username: str | None = Field(default=None, min_length=1, max_length=320)
    imap_password: SecretStr | None = None
    imap_mailbox: str = Field(default="INBOX", min_length=1, max_length=200)
    imap_poll_interval_s: float = Field(
        default=60.0, gt=0, description="How often the mailbox is read"
    )
    imap_after: Literal["seen", "delete"] = Field(
        default="seen",
        description="What becomes of a stored mail on the server: marked seen, or deleted",
    )
    imap_timeout_s: float = Field(default=30.0, gt=0)

    ticket_keep_days: int = Field(
        default=1461,
        ge=30,
        le=3650,
        description="A ticket closed this many days ago is anonymised (its person goes, its "
        "figures stay); 4 years outlive every claim of a sale (§§ 195, 199 BGB)",
    )
    context_order_keep_days: int = Field(
        default=1096,
        ge=30,
        le=3650,
        description="An order's context (shipments, returns, invoices, payments, the buyer's "
        "name and e-mail) is deleted this many days after its last fact, unless a ticket not "
        "yet anonymised is its customer's or names it; 3 years outlive the 2 years' warranty "
        "from delivery (§438 BGB) by a year of follow-up questions (ADR 0138)",
    )
    customer_keep_days: int = Field(
        default=1096,
        ge=30,
        le=3650,
        description="A customer (name, phones, customer id) is deleted this many days after "
        "the last order or billing fact naming them, unless an order context or a ticket not "
        "yet anonymised of theirs is kept (ADR 0138)",
    )
    chat_keep_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="A chat (who opened it, name, address, read and typing state) is deleted "
        "this many days after it ended (its customer token expired), unless its ticket is "
        "still in progress; the transcript stays on the ticket (ADR 0138)",
    )
    retention_sweep_interval_s: float = Field(
        default=3600.0,
        gt=0,
        description="How often tickets, customers, order contexts and chats past their "
        "retention are looked for",
    )

    @model_validator(mode="after")
    def _chat_files_fit_a_request(self) -> Self:
        if self.chat_attachment_max_bytes > self.max_body_bytes - 64 * 1024:
            raise ValueError("chat_attachment_max_bytes must be max_body_bytes - 64 KiB or less")
        return self

    @model_validator(mode="after")
    def _imap_needs_a_login(self) -> Self:
        login = (self.imap_username, self.imap_password)
        if self.imap_host is not None and None in login:
            raise ValueError("imap_host needs imap_username and imap_password")
        return self
