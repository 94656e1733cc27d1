"""The six Dockerfiles come from one template (``deploy/Dockerfile.template``).

Each service has its own Dockerfile so it can be built and shipped on its own, but
they differ only in the service's name; this keeps them from drifting apart.
``python deploy/dockerfiles.py write|check`` (``make dockerfiles``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from kontor_contracts.registry import SERVICES

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "Dockerfile.template"


#: Debian packages a service's Python dependencies load at run time, installed in its
#: final stage only (without recommends, the package lists removed). Billing and orders
#: (the kit's ``pdf`` extra: documents, the export summary, ADR 0143): weasyprint 70
#: opens Pango, PangoFT2, HarfBuzz (with its subsetter) and fontconfig (pulled by Pango);
#: the PDFs name DejaVu Sans. Cairo is not among them (weasyprint writes PDF itself).
WEASYPRINT_PACKAGES = (
    "fonts-dejavu-core",
    "libharfbuzz-subset0",
    "libpango-1.0-0",
    "libpangoft2-1.0-0",
)
RUNTIME_PACKAGES: dict[str, tuple[str, ...]] = {
    "billing": WEASYPRINT_PACKAGES,
    "orders": WEASYPRINT_PACKAGES,
}


def runtime_packages(service: str) -> str:
    packages = RUNTIME_PACKAGES.get(service)
    if not packages:
        return ""
    return (
        f"# The OS libraries kontor-{service}'s Python packages load at run time "
        "(deploy/dockerfiles.py).\n"
        "RUN apt-get update \\\n"
        f" && apt-get install -y --no-install-recommends {' '.join(packages)} \\\n"
        " && rm -rf /var/lib/apt/lists/*\n"
    )


def render(service: str) -> str:
    return (
        TEMPLATE.read_text()
        .replace("{runtime_packages}\n", runtime_packages(service))
        .replace("{service}", service)
        .replace("{SERVICE}", service.upper())
    )


def stale(root: Path = ROOT) -> list[str]:
    """Services whose Dockerfile differs from the template."""
    return [
        s
        for s in SERVICES
        if not (root / "services" / s / "Dockerfile").exists()
        or (root / "services" / s / "Dockerfile").read_text() != render(s)
    ]


def main(argv: list[str]) -> int:
    action = argv[1] if len(argv) > 1 else "check"
    if action == "write":
        for service in SERVICES:
            (ROOT / "services" / service / "Dockerfile").write_text(render(service))
        return 0
    differing = stale()
    if differing:
        print(f"Dockerfiles differ from deploy/Dockerfile.template: {', '.join(differing)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
