"""Signed links in mails: confirm, unsubscribe (marketing), confirm a privacy request
(orders). Moved here from marketing's domain when orders needed the same (issue 13).

A token is ``<payload>.<signature>``: the payload is URL-safe base64 of compact JSON
(what the link does: its purpose, the address, the request or topics, and an expiry
where the link expires), the signature an HMAC-SHA256 over the purpose and the payload
with the service's link secret. Nothing is stored per link, so every replica holding
the secret accepts it, and a link cannot be altered (another address, another topic)
or used for another purpose (a confirmation token is no unsubscribe token).
Pure: standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

__all__ = ["BadLink", "LinkSigner"]


class BadLink(ValueError):
    """A token that does not admit: malformed, forged, for another purpose, or expired."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.expired = expired


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("a link secret has at least 16 bytes")
        self._secret = secret

    def __repr__(self) -> str:  # never print the secret
        return "LinkSigner(...)"

    def _mac(self, purpose: str, payload: str) -> str:
        message = f"{purpose}\0{payload}".encode()
        return _b64(hmac.new(self._secret, message, hashlib.sha256).digest())

    def sign(self, purpose: str, data: dict[str, Any], *, expires_at: datetime | None) -> str:
        body = dict(data)
        if expires_at is not None:
            body["exp"] = int(expires_at.timestamp())
        payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
        return f"{payload}.{self._mac(purpose, payload)}"

    def verify(self, purpose: str, token: str, *, now: datetime) -> dict[str, Any]:
        """The signed data of ``token`` for ``purpose``, or :class:`BadLink`."""
        payload, dot, signature = token.partition(".")
        if not dot or not payload or not signature:
            raise BadLink("the link is malformed")
        if not hmac.compare_digest(self._mac(purpose, payload).encode(), signature.encode()):
            raise BadLink("the link is not signed by this shop")
        try:
            data = json.loads(_unb64(payload))
        except ValueError as exc:
            raise BadLink("the link is malformed") from exc
        if not isinstance(data, dict):
            raise BadLink("the link is malformed")
        expiry = data.pop("exp", None)
        if expiry is not None and int(expiry) <= now.timestamp():
            raise BadLink("the link has expired", expired=True)
        return data
