"""Running a service process: uvicorn on the configured address.

Forwarded headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) are believed only from
the addresses in ``trusted_proxies`` (a setting, ``KONTOR_TRUSTED_PROXIES``); with none
configured, uvicorn's proxy-header handling is off and the client address is the
socket's. uvicorn's own default trusts 127.0.0.1, which let any local client (and any
client of a proxy on the same host) choose its address, e.g. to dodge the withdrawal
rate limit with a made-up ``X-Forwarded-For``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import uvicorn

from kontor_servicekit.settings import ServiceSettings, trusted_proxy_list

S = TypeVar("S", bound=ServiceSettings)


def uvicorn_options(settings: ServiceSettings) -> dict[str, Any]:
    """How a service's app is served: ``uvicorn.run``'s arguments (the tests serve with them)."""
    proxies = trusted_proxy_list(settings.trusted_proxies)
    return {
        "host": settings.http_host,
        "port": settings.http_port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": int(settings.shutdown_grace_s),
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies,
    }


def run_service(create_app: Callable[[S], Any], settings_cls: type[S]) -> None:
    """Serve the app until SIGTERM/SIGINT; the lifespan drains outbox and consumers."""
    settings = settings_cls()
    app = create_app(settings)
    uvicorn.run(app, **uvicorn_options(settings))
