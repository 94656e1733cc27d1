from kontor_servicekit.settings import ServiceSettings


class OrdersSettings(ServiceSettings):
    """Orders settings: ``KONTOR_ORDERS_<FIELD>`` or ``KONTOR_<FIELD>``."""

    service_name = "orders"
    default_http_port = 8002
