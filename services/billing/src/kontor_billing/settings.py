from kontor_servicekit.settings import ServiceSettings


class BillingSettings(ServiceSettings):
    """Billing settings: ``KONTOR_BILLING_<FIELD>`` or ``KONTOR_<FIELD>``."""

    service_name = "billing"
    default_http_port = 8003
