"""Signatures of the channels: a chat's customer token and a contact webhook's body.
Pure (standard library only): HMAC-SHA256 with a secret from the settings.

**Chat token** ``<chat id>.<expiry, unix s>.<signature>``: it admits its holder to one
chat until it expires and to no other; the service keeps no copy, so every replica that
holds the same secret (setting ``chat_token_secret``) accepts it.

**Webhook signature** ``X-Kontor-Signature: t=<unix s>,v1=<hex>`` over ``"<t>.<body>"``
(the scheme of Stripe's and GitHub's webhooks): the timestamp is signed, so a captured
request cannot be replayed after ``tolerance_s``; several ``v1`` values may be given
while a secret is being rotated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

__all__ = [
    "BadSignature",
    "chat_token",
    "chat_token_admits",
    "sign_webhook",
    "verify_chat_token",
    "verify_webhook",
]


class BadSignature(ValueError):
    """A token or signature that does not admit: forged, for another chat, or expired."""


def _mac(secret: bytes, message: str) -> bytes:
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).digest()


def chat_token(secret: bytes, chat_id: str, *, expires_at: datetime) -> str:
    """The customer's token for ``chat_id``, valid until ``expires_at``."""
    if "." in chat_id:
        raise ValueError("a chat id has no dots")
    expiry = int(expires_at.timestamp())
    signature = base64.urlsafe_b64encode(_mac(secret, f"chat.{chat_id}.{expiry}"))
    return f"{chat_id}.{expiry}.{signature.decode('ascii').rstrip('=')}"


def verify_chat_token(secret: bytes, token: str, chat_id: str, *, now: datetime) -> None:
    """Raise :class:`BadSignature` unless ``token`` admits to ``chat_id`` at ``now``."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        raise BadSignature("the chat token is malformed")
    token_chat, expiry, _ = parts
    expected = chat_token(
        secret, token_chat, expires_at=datetime.fromtimestamp(int(expiry), tz=now.tzinfo)
    )
    if not hmac.compare_digest(expected.encode(), token.encode()):
        raise BadSignature("the chat token is not signed by this service")
    if token_chat != chat_id:
        raise BadSignature("the chat token is for another chat")
    if int(expiry) <= now.timestamp():
        raise BadSignature("the chat token has expired")


def chat_token_admits(secret: bytes, token: str, chat_id: str, *, now: datetime) -> bool:
    """Whether ``token`` admits to ``chat_id`` at ``now`` (:func:`verify_chat_token`)."""
    try:
        verify_chat_token(secret, token, chat_id, now=now)
    except BadSignature:
        return False
    return True


def sign_webhook(secret: bytes, body: bytes, *, at: datetime) -> str:
    """The ``X-Kontor-Signature`` value for ``body`` sent at ``at``."""
    timestamp = int(at.timestamp())
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_webhook(
    secret: bytes, body: bytes, header: str | None, *, now: datetime, tolerance_s: int = 300
) -> None:
    """Raise :class:`BadSignature` unless ``header`` signs ``body`` within the tolerance."""
    if not header:
        raise BadSignature("the X-Kontor-Signature header is missing")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise BadSignature("the X-Kontor-Signature header is malformed")
    expected = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise BadSignature("the signature does not match the body")
    sent = datetime.fromtimestamp(timestamp, tz=now.tzinfo)
    if abs(now - sent) > timedelta(seconds=tolerance_s):
        raise BadSignature("the signature is too old (or from the future)")
