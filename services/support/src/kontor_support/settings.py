from kontor_servicekit.settings import ServiceSettings


class SupportSettings(ServiceSettings):
    """Support settings: ``KONTOR_SUPPORT_<FIELD>`` or ``KONTOR_<FIELD>``."""

    service_name = "support"
    default_http_port = 8004
