"""Running a service process: uvicorn on the configured address."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import uvicorn

from kontor_servicekit.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def run_service(create_app: Callable[[S], Any], settings_cls: type[S]) -> None:
    """Serve the app until SIGTERM/SIGINT; the lifespan drains outbox and consumers."""
    settings = settings_cls()
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_s),
        proxy_headers=True,
    )
