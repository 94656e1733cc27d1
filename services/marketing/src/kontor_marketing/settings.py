from kontor_servicekit.settings import ServiceSettings


class MarketingSettings(ServiceSettings):
    """Marketing settings: ``KONTOR_MARKETING_<FIELD>`` or ``KONTOR_<FIELD>``."""

    service_name = "marketing"
    default_http_port = 8005
