"""Mail for every service (ADR 0080): build, send over SMTP, receive, and a local sink.

- :mod:`.message`: :class:`OutgoingMail` and the RFC 5322 message built from it;
- :mod:`.sender`: :class:`SmtpSender` (aiosmtplib) and :class:`MailDeliveryError`;
- :mod:`.receiver`: :class:`SmtpReceiver` (aiosmtpd on the service's loop);
- :mod:`.sink`: :class:`MailSink`, ``python -m kontor_servicekit.mail sink``.
"""

from kontor_servicekit.mail.message import (
    MailAttachment,
    OutgoingMail,
    build_message,
    new_message_id,
)
from kontor_servicekit.mail.receiver import MailRejected, ReceivedMail, SmtpReceiver
from kontor_servicekit.mail.sender import MailDeliveryError, SentMail, SmtpConfig, SmtpSender
from kontor_servicekit.settings import ServiceSettings

__all__ = [
    "MailAttachment",
    "MailDeliveryError",
    "MailRejected",
    "OutgoingMail",
    "ReceivedMail",
    "SentMail",
    "SmtpConfig",
    "SmtpReceiver",
    "SmtpSender",
    "build_message",
    "new_message_id",
    "smtp_config",
]


def smtp_config(settings: ServiceSettings) -> SmtpConfig:
    """The :class:`SmtpConfig` of a service's settings (the kit's ``smtp_*`` fields)."""
    password = settings.smtp_password
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=password.get_secret_value() if password is not None else None,
        timeout_s=settings.smtp_timeout_s,
        mail_from=settings.mail_from,
    )
