from kontor_servicekit.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    """Analytics settings: ``KONTOR_ANALYTICS_<FIELD>`` or ``KONTOR_<FIELD>``."""

    service_name = "analytics"
    default_http_port = 8006
