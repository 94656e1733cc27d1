"""Chat tokens admit to one chat until they expire; webhook signatures bind the body
and the time, so neither can be forged, moved to another chat, or replayed late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from kontor_support.channels.signing import (
    BadSignature,
    chat_token,
    sign_webhook,
    verify_chat_token,
    verify_webhook,
)

pytestmark = pytest.mark.unit

SECRET = b"s" * 32
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_a_chat_token_admits_to_its_chat_until_it_expires() -> None:
    token = chat_token(SECRET, "C-abc", expires_at=NOW + timedelta(hours=1))
    verify_chat_token(SECRET, token, "C-abc", now=NOW)
    verify_chat_token(SECRET, token, "C-abc", now=NOW + timedelta(minutes=59))
    with pytest.raises(BadSignature, match="expired"):
        verify_chat_token(SECRET, token, "C-abc", now=NOW + timedelta(hours=1))
    with pytest.raises(BadSignature, match="another chat"):
        verify_chat_token(SECRET, token, "C-other", now=NOW)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # another signature
        lambda t: t.replace(".", ".9", 1),  # a later expiry
        lambda t: "C-other" + t[len("C-abc") :],  # another chat, same signature
        lambda t: "",
        lambda t: "C-abc.notanumber.sig",
        lambda t: t + ".extra",
    ],
)
def test_a_tampered_chat_token_is_refused(tamper) -> None:  # type: ignore[no-untyped-def]
    token = chat_token(SECRET, "C-abc", expires_at=NOW + timedelta(hours=1))
    with pytest.raises(BadSignature):
        verify_chat_token(SECRET, tamper(token), "C-abc", now=NOW)


def test_a_chat_token_of_another_secret_is_refused() -> None:
    token = chat_token(b"other" * 8, "C-abc", expires_at=NOW + timedelta(hours=1))
    with pytest.raises(BadSignature, match="not signed"):
        verify_chat_token(SECRET, token, "C-abc", now=NOW)


def test_a_webhook_signature_binds_body_and_time() -> None:
    body = b'{"channel": "phone", "summary": "Anruf"}'
    header = sign_webhook(SECRET, body, at=NOW)
    verify_webhook(SECRET, body, header, now=NOW + timedelta(seconds=299))
    with pytest.raises(BadSignature, match="does not match"):
        verify_webhook(SECRET, body + b" ", header, now=NOW)
    with pytest.raises(BadSignature, match="does not match"):
        verify_webhook(b"x" * 32, body, header, now=NOW)
    with pytest.raises(BadSignature, match="too old"):
        verify_webhook(SECRET, body, header, now=NOW + timedelta(seconds=301))
    with pytest.raises(BadSignature, match="missing"):
        verify_webhook(SECRET, body, None, now=NOW)
    with pytest.raises(BadSignature, match="malformed"):
        verify_webhook(SECRET, body, "v1=abc", now=NOW)


def test_a_webhook_signed_with_either_secret_of_a_rotation_passes() -> None:
    body = b"{}"
    old = sign_webhook(b"old" * 11, body, at=NOW).split(",")[1]
    header = f"{sign_webhook(SECRET, body, at=NOW)},{old}"
    verify_webhook(SECRET, body, header, now=NOW)
