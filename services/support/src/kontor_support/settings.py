from kontor_servicekit.settings import ServiceSettings
from pydantic import Field


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
    last_dunning_level: int = Field(
        default=3, ge=1, description="PaymentOverdue at this dunning level opens a ticket"
    )
