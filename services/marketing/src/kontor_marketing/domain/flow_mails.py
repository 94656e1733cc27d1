"""The texts of the flows' mails (issue 15), German or English, imprint in the footer.

Each is advertising: it carries the one-click unsubscribe of its topic and is sent only
while the person's consent to the topic holds (checked again when it leaves).
"""

from __future__ import annotations

from html import escape

from kontor_marketing.domain.mail import Mail, with_unsubscribe

TOPIC_NAMES = {
    "de": {"news": "Neuigkeiten", "offers": "Angebote", "back_in_stock": "Wieder da"},
    "en": {"news": "news", "offers": "offers", "back_in_stock": "back in stock"},
}


def _mail(
    to: str, subject: str, lines: list[str], *, unsubscribe_url: str, imprint: str, locale: str
) -> Mail:
    leave = "Abmelden" if locale == "de" else "Unsubscribe"
    text = "\n".join([*lines, "", "--", f"{leave}: {unsubscribe_url}", imprint])
    html = (
        "<!doctype html><html><body>"
        + "".join(f"<p>{escape(line)}</p>" for line in lines if line)
        + f'<hr><p><a href="{escape(unsubscribe_url)}">{leave}</a></p>'
        + f"<p>{escape(imprint)}</p></body></html>"
    )
    mail = Mail(to=to, subject=subject, text=text, html=html)
    return with_unsubscribe(mail, unsubscribe_url=unsubscribe_url)


def welcome_mail(
    *, to: str, locale: str, topics: tuple[str, ...], unsubscribe_url: str, imprint: str
) -> Mail:
    """After the first double opt-in: what the person will get, and how to leave."""
    names = ", ".join(TOPIC_NAMES.get(locale, TOPIC_NAMES["en"]).get(t, t) for t in topics)
    if locale == "de":
        subject = "Willkommen bei unserem Newsletter"
        lines = [
            "Hallo,",
            "",
            f"schön, dass Sie dabei sind. Sie erhalten von uns: {names}.",
            "Sie können sich mit dem Link unten jederzeit mit einem Klick abmelden.",
        ]
    else:
        subject = "Welcome to our newsletter"
        lines = [
            "Hello,",
            "",
            f"glad to have you. You will get: {names}.",
            "You can leave with one click on the link below at any time.",
        ]
    return _mail(
        to, subject, lines, unsubscribe_url=unsubscribe_url, imprint=imprint, locale=locale
    )


def review_request_mail(
    *, to: str, locale: str, order_number: str, unsubscribe_url: str, imprint: str
) -> Mail:
    """Some days after the delivery: how was the order?"""
    if locale == "de":
        subject = "Wie zufrieden sind Sie mit Ihrer Bestellung?"
        lines = [
            "Hallo,",
            "",
            f"Ihre Bestellung {order_number} ist vor ein paar Tagen angekommen.",
            "Wir freuen uns über Ihre Bewertung: sie hilft anderen Kundinnen und Kunden.",
        ]
    else:
        subject = "How do you like your order?"
        lines = [
            "Hello,",
            "",
            f"Your order {order_number} arrived a few days ago.",
            "We would be glad of a review: it helps other customers.",
        ]
    return _mail(
        to, subject, lines, unsubscribe_url=unsubscribe_url, imprint=imprint, locale=locale
    )


def win_back_mail(*, to: str, locale: str, days: int, unsubscribe_url: str, imprint: str) -> Mail:
    """No order for ``days`` days: an invitation back."""
    if locale == "de":
        subject = "Wir vermissen Sie"
        lines = [
            "Hallo,",
            "",
            f"Ihre letzte Bestellung ist {days} Tage her. Schauen Sie doch wieder vorbei:",
            "in unserem Shop gibt es viel Neues.",
        ]
    else:
        subject = "We miss you"
        lines = [
            "Hello,",
            "",
            f"Your last order was {days} days ago. Come and have a look:",
            "there is plenty new in the shop.",
        ]
    return _mail(
        to, subject, lines, unsubscribe_url=unsubscribe_url, imprint=imprint, locale=locale
    )


def back_in_stock_mail(
    *, to: str, locale: str, sku: str, shop_url: str, unsubscribe_url: str, imprint: str
) -> Mail:
    """The article the person asked about can be ordered again."""
    if locale == "de":
        subject = f"Wieder da: {sku}"
        lines = ["Hallo,", "", f"der Artikel {sku} ist wieder lieferbar.", shop_url]
    else:
        subject = f"Back in stock: {sku}"
        lines = ["Hello,", "", f"the article {sku} is available again.", shop_url]
    return _mail(
        to, subject, lines, unsubscribe_url=unsubscribe_url, imprint=imprint, locale=locale
    )
