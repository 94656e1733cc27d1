from kontor_servicekit.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    """Catalog settings: ``KONTOR_CATALOG_<FIELD>`` or ``KONTOR_<FIELD>``."""

    service_name = "catalog"
    default_http_port = 8001
