"""Marketing's sender port over the kit's SMTP sender (ADR 0080).

A mail with an ``unsubscribe_url`` is advertising: bulk mail with the one-click
``List-Unsubscribe`` the kit requires to be ``https`` (RFC 8058). On a machine whose
public address is plain ``http`` (``make run``), it carries the RFC 2369 header alone:
mail clients show the link, no one-click POST is offered (ADR 0053). A mail tagged with
its id leaves with the VERP envelope sender ``bounces+<id>@...``: a relay's bounce comes
back to marketing's receiver naming the mail (ADR 0055).
"""

from __future__ import annotations

from kontor_servicekit.mail import OutgoingMail, SmtpSender

from kontor_marketing.domain.feedback import mail_id_of, verp_address
from kontor_marketing.domain.mail import Mail


class KitMailSender:
    def __init__(self, sender: SmtpSender, *, mail_from: str, bounce_address: str) -> None:
        self.sender = sender
        self.mail_from = mail_from
        self.bounce_address = bounce_address

    async def send(self, mail: Mail) -> None:
        url = mail.unsubscribe_url
        one_click = url is not None and url.startswith("https://")
        headers = list(mail.headers)
        mail_id = mail_id_of(mail)
        return_path = verp_address(self.bounce_address, mail_id) if mail_id else self.bounce_address
        if url is not None and not one_click:
            headers.append(("List-Unsubscribe", f"<{url}>"))
        await self.sender.send(
            OutgoingMail(
                to=[mail.to],
                subject=mail.subject,
                text=mail.text,
                html=mail.html,
                sender=self.mail_from,
                auto_submitted="auto-generated",
                bulk=one_click,
                list_unsubscribe=url if one_click else None,
                headers=tuple(headers),
                return_path=return_path,
            )
        )
