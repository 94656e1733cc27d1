"""A customer asks for their own export or erasure: by e-mail, confirmed through a signed
link (issue 13, ADR 0037).

:func:`ask_by_mail` answers the same whatever the address (nobody learns from it whether
the shop knows an e-mail) and mails a link to that address only: whoever confirms it can
read that mailbox. The link is signed (``kontor_servicekit.links``, a key derived from
the privacy master key), valid ``valid_for`` and good for one request:
:func:`confirm_by_link` opens the request under an id taken from the link, so a second
confirmation is refused. The request is then the merchant's to hand over, as one they
opened themselves (``GET /privacy/requests/{id}``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import DomainError, Invalid, Unavailable
from kontor_servicekit.links import BadLink, LinkSigner
from kontor_servicekit.mail import MailDeliveryError, OutgoingMail

from kontor_orders.application.privacy import PrivacyDesk, request_privacy
from kontor_orders.domain.privacy import PrivacyRequest

log = logging.getLogger(__name__)

PURPOSE = "privacy-request"
SUBJECTS = {
    "export": "Ihre Auskunft nach Art. 15 DSGVO: bitte bestätigen",
    "erasure": "Löschung Ihrer Daten nach Art. 17 DSGVO: bitte bestätigen",
}


class MailSender(Protocol):
    async def send(self, mail: OutgoingMail) -> object: ...


@dataclass
class PublicRequests:
    signer: LinkSigner
    sender: MailSender
    base_url: str
    valid_for: timedelta = timedelta(hours=24)


def link_of(public: PublicRequests, token: str) -> str:
    return f"{public.base_url.rstrip('/')}/privacy/confirmations/{token}"


async def ask_by_mail(public: PublicRequests, *, kind: str, email: str, clock: Clock) -> None:
    """Mail ``email`` a link that confirms a ``kind`` request (nothing is stored yet)."""
    if kind not in SUBJECTS:
        raise Invalid("kind must be export or erasure", field=("kind",))
    now = clock()
    token = public.signer.sign(
        PURPOSE,
        {"kind": kind, "email": email, "id": uuid.uuid4().hex},
        expires_at=now + public.valid_for,
    )
    what = "eine Kopie Ihrer Daten" if kind == "export" else "die Löschung Ihrer Daten"
    text = (
        f"Guten Tag,\n\njemand hat mit dieser Adresse {what} angefragt. Wenn Sie das waren, "
        f"bestätigen Sie es bitte hier (gültig bis {(now + public.valid_for):%d.%m.%Y %H:%M} "
        f"UTC):\n\n{link_of(public, token)}\n\nWenn nicht, ignorieren Sie diese Nachricht; "
        "es geschieht dann nichts.\n"
    )
    try:
        mail = OutgoingMail(to=[email], subject=SUBJECTS[kind], text=text)
    except ValueError as exc:  # the contracts' Email is a loose syntax check only
        raise Invalid("no mail can be sent to this address", field=("email",)) from exc
    try:
        await public.sender.send(mail)
    except MailDeliveryError as exc:
        if exc.permanent:
            # the relay refused the address for good: the answer stays the same as for any
            # address (it must not tell who exists), nothing was stored
            log.warning("privacy link not mailed, refused for good: %s", exc)
            return
        raise Unavailable(
            "the mail relay is unreachable; ask again shortly", retry_after_s=30
        ) from exc


@dataclass(frozen=True)
class LinkRefused:
    """Why a link's page shows no request (the page says it; not a problem+json)."""

    error: DomainError

    @property
    def status_code(self) -> int:
        return 409 if "confirmed already" in str(self.error) else 400


def read_link(public: PublicRequests, token: str, clock: Clock) -> dict[str, str]:
    """What a link asks for (``kind``, ``email``, ``id``), or Invalid for a bad one."""
    try:
        data = public.signer.verify(PURPOSE, token, now=clock())
    except BadLink as exc:
        raise Invalid(str(exc), field=("token",)) from exc
    if data.get("kind") not in SUBJECTS or not data.get("email") or not data.get("id"):
        raise Invalid("the link is malformed", field=("token",))
    return {key: str(data[key]) for key in ("kind", "email", "id")}


def link_page(public: PublicRequests, token: str, clock: Clock) -> dict[str, str] | LinkRefused:
    """What the link's page shows: what it asks for, or why it does not admit."""
    try:
        return read_link(public, token, clock)
    except Invalid as error:
        return LinkRefused(error)


async def confirm_by_link(
    desk: PrivacyDesk | None, public: PublicRequests, token: str, clock: Clock
) -> PrivacyRequest | LinkRefused:
    """Open the request the link asks for, once (refused: a second confirmation, a bad
    or expired link). Unavailable (no keys, no database) still raises: 503."""
    try:
        asked = read_link(public, token, clock)
        return await request_privacy(
            desk,
            kind=asked["kind"],
            email=asked["email"],
            clock=clock,
            request_id=f"prq_{asked['id']}",
        )
    except Unavailable:
        raise
    except DomainError as error:
        return LinkRefused(error)
