"""Links in marketing mails. Pure.

Signed links: the kit's (``kontor_servicekit.links``), which orders' privacy request
links use too. UTM tags (issue 16): a campaign's click redirect sends the person to its
target with ``utm_source`` (the shop's setting, ``kontor``), ``utm_medium=email``,
``utm_campaign`` (the campaign's id: what analytics attributes a storefront session by,
ADR 0095) and, in an A/B test, ``utm_content`` (the variant); a flow's links carry
``utm_campaign=flow-<name>``. The target's own query is kept as it was, and a UTM
parameter the marketer put into the link wins (ADR 0121).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from kontor_servicekit.links import BadLink, LinkSigner

__all__ = ["UTM_MEDIUM", "BadLink", "LinkSigner", "campaign_utm", "flow_utm", "with_utm"]

UTM_MEDIUM = "email"


def campaign_utm(source: str, campaign_id: str, variant: str | None = None) -> dict[str, str]:
    """The tags of a campaign's links; ``variant``: the A/B test's (``utm_content``)."""
    tags = {"utm_source": source, "utm_medium": UTM_MEDIUM, "utm_campaign": campaign_id}
    if variant is not None:
        tags["utm_content"] = variant
    return tags


def flow_utm(source: str, flow: str) -> dict[str, str]:
    """The tags of a flow mail's links (``utm_campaign=flow-<name>``)."""
    return {"utm_source": source, "utm_medium": UTM_MEDIUM, "utm_campaign": f"flow-{flow}"}


def with_utm(url: str, tags: Mapping[str, str]) -> str:
    """``url`` with the ``tags`` it does not carry yet appended to its query (which is
    kept byte for byte, fragment too); a tag already there, in any case, is the
    marketer's and stays. Only http(s) links are tagged (not mailto: or tel:)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return url
    present = {key.lower() for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    missing = [(key, value) for key, value in tags.items() if key.lower() not in present]
    if not missing:
        return url
    joint = "" if not parts.query or parts.query.endswith("&") else "&"
    query = f"{parts.query}{joint}{urlencode(missing)}"
    return urlunsplit(parts._replace(query=query))
