from kontor_servicekit.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    """Catalog settings: ``KONTOR_CATALOG_<FIELD>`` or ``KONTOR_<FIELD>``."""

    service_name = "catalog"
    default_http_port = 8001
    #: Image uploads are up to 5 MiB (checked per route); the multipart envelope adds a little.
    max_body_bytes: int = 6 * 1024 * 1024
