"""What the customer reads of the withdrawal function (Vertrag widerrufen): the pages of
``GET /withdrawals`` and its form posts, in German and English, and the receipt.

Presentation only: no data access, no rules (those are in ``domain/returns.py``; the
steps are in ``application/withdrawal_form.py``). The pages are plain HTML forms that
work without JavaScript; they carry no inline script or style (the one stylesheet is
served by the service), so the kit's page policy (``kontor_servicekit.browser``) allows
them with same-origin styles and form posts and no script at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from html import escape
from importlib.resources import files
from typing import Literal

from kontor_servicekit.clock import BERLIN
from kontor_servicekit.domain_errors import (
    DomainError,
    IllegalTransition,
    Invalid,
    NotFound,
    RateLimited,
)

from kontor_orders.application.withdrawal_form import ShownWithdrawal
from kontor_orders.domain.returns import DeadlinePassed

Language = Literal["de", "en"]
LANGUAGES: tuple[Language, ...] = ("de", "en")

#: The stylesheet of the pages, served at ``/withdrawals/page/withdrawal.css``.
STYLESHEET = files("kontor_orders.api").joinpath("static/withdrawal.css").read_text("utf-8")


def confirmation_message(order_number: str, received_at: datetime) -> str:
    """The receipt of the declaration, in Berlin time (what the customer keeps)."""
    local = received_at.astimezone(BERLIN)
    return (
        f"Ihr Widerruf zur Bestellung {order_number} ist am "
        f"{local:%d.%m.%Y} um {local:%H:%M:%S} Uhr eingegangen."
    )


def _message_en(order_number: str, received_at: datetime) -> str:
    local = received_at.astimezone(BERLIN)
    return (
        f"Your withdrawal from order {order_number} was received on "
        f"{local:%d %B %Y} at {local:%H:%M:%S} (German time)."
    )


def language_of(accept_language: str | None, chosen: str | None = None) -> Language:
    """German unless the customer chose English (``?lang=en``) or the browser prefers
    English to German (``Accept-Language: en-GB,en;q=0.9,de;q=0.5``)."""
    if chosen in LANGUAGES:
        return "en" if chosen == "en" else "de"
    best: tuple[float, Language] = (0.0, "de")
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        # earlier tags win ties: browsers list them by preference
        score = _weight(params) - index * 1e-6
        if score > best[0]:
            best = (score, "en" if primary == "en" else "de")
    return best[1]


def _weight(params: str) -> float:
    """The ``q`` of a language tag's parameters (1 if none, 0 if unreadable)."""
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name == "q":
            return float(value) if re.fullmatch(r"(0(\.\d{0,3})?|1(\.0{0,3})?)", value) else 0.0
    return 1.0


TEXTS: dict[Language, dict[str, str]] = {
    "de": {
        "title": "Vertrag widerrufen",
        "intro": "Hier können Sie Ihren Vertrag widerrufen. Geben Sie Ihre Bestellnummer und "
        "die E-Mail-Adresse Ihrer Bestellung an. Danach wählen Sie die Artikel und "
        "bestätigen den Widerruf.",
        "order_number": "Bestellnummer",
        "email": "E-Mail-Adresse",
        "start": "Vertrag widerrufen",
        "choose_title": "Welche Artikel widerrufen Sie?",
        "choose_intro": "Bestellung {number}. Geben Sie je Artikel die Menge an, die Sie "
        "widerrufen (0: behalten).",
        "deadline": "Die Widerrufsfrist endet am {date} um 24:00 Uhr.",
        "no_deadline": "Die Widerrufsfrist beginnt erst mit der Lieferung.",
        "article": "Artikel",
        "sku": "Artikelnummer",
        "quantity": "Menge",
        "of": "von {n}",
        "next": "Weiter",
        "review_title": "Widerruf prüfen und bestätigen",
        "review_intro": "Sie widerrufen den Vertrag zur Bestellung {number} für:",
        "review_hint": "Mit „Widerruf bestätigen“ erklären Sie den Widerruf. Sie erhalten "
        "sofort eine Eingangsbestätigung.",
        "confirm": "Widerruf bestätigen",
        "back": "Zurück zum Anfang",
        "receipt_title": "Eingangsbestätigung Ihres Widerrufs",
        "receipt_lines": "Widerrufen:",
        "reference": "Vorgangsnummer",
        "keep": "Bitte bewahren Sie diese Bestätigung auf.",
        "download": "Bestätigung herunterladen (Textdatei)",
        "pending_receipt": "Dieser Widerruf ist noch nicht bestätigt.",
        "other_language": "English",
        "error_title": "Das hat nicht geklappt",
        "not_found": "Wir finden keine Bestellung mit dieser Bestellnummer und "
        "E-Mail-Adresse. Bitte prüfen Sie Ihre Angaben.",
        "unknown_withdrawal": "Diesen Widerruf kennen wir nicht. Bitte beginnen Sie von vorn.",
        "deadline_passed": "Die Widerrufsfrist für diese Bestellung ist am {date} abgelaufen. "
        "Bitte wenden Sie sich an unseren Kundenservice.",
        "not_withdrawable": "Diese Bestellung kann online nicht widerrufen werden "
        "(Stand: {state}). Bitte wenden Sie sich an unseren Kundenservice.",
        "nothing_left": "Zu dieser Bestellung gibt es keine Artikel mehr, die Sie "
        "widerrufen können.",
        "choose_lines": "Bitte wählen Sie mindestens einen Artikel, je Artikel höchstens "
        "die gelieferte Menge.",
        "missing": "Bitte geben Sie Ihre Bestellnummer und Ihre E-Mail-Adresse an.",
        "too_many": "Zu viele Anfragen von Ihrer Adresse. Bitte versuchen Sie es in "
        "{seconds} Sekunden erneut.",
        "refused": "Ihr Widerruf konnte nicht angenommen werden. Bitte wenden Sie sich an "
        "unseren Kundenservice.",
        "whole_title": "Widerruf Ihrer Bestellung",
        "whole_intro": "Bestellung {number} ist noch nicht versandt. Ein Widerruf gilt daher "
        "für die ganze Bestellung: alle Artikel werden widerrufen und die Bestellung wird "
        "storniert. Bereits Gezahltes erstatten wir Ihnen.",
        "whole_review": "Ihre Bestellung ist noch nicht versandt: mit dem Widerruf wird sie "
        "storniert.",
        "cancelled": "Ihre Bestellung {number} ist storniert.",
        "refunded": "Den bereits gezahlten Betrag von {amount} erstatten wir Ihnen.",
    },
    "en": {
        "title": "Withdraw from contract",
        "intro": "Here you can withdraw from your contract. Enter your order number and the "
        "e-mail address of your order. Then choose the articles and confirm the "
        "withdrawal.",
        "order_number": "Order number",
        "email": "E-mail address",
        "start": "Withdraw from contract",
        "choose_title": "Which articles do you withdraw from?",
        "choose_intro": "Order {number}. Enter for each article the quantity you withdraw "
        "from (0: keep).",
        "deadline": "The withdrawal period ends on {date} at midnight (German time).",
        "no_deadline": "The withdrawal period starts only with the delivery.",
        "article": "Article",
        "sku": "Article number",
        "quantity": "Quantity",
        "of": "of {n}",
        "next": "Next",
        "review_title": "Check and confirm your withdrawal",
        "review_intro": "You withdraw from the contract of order {number} for:",
        "review_hint": "With “Confirm withdrawal” you declare the withdrawal. You receive a "
        "confirmation of receipt at once.",
        "confirm": "Confirm withdrawal",
        "back": "Back to the start",
        "receipt_title": "Confirmation of receipt of your withdrawal",
        "receipt_lines": "Withdrawn:",
        "reference": "Reference",
        "keep": "Please keep this confirmation.",
        "download": "Download the confirmation (text file)",
        "pending_receipt": "This withdrawal has not been confirmed yet.",
        "other_language": "Deutsch",
        "error_title": "That did not work",
        "not_found": "We find no order with this order number and e-mail address. Please "
        "check what you entered.",
        "unknown_withdrawal": "We do not know this withdrawal. Please start again.",
        "deadline_passed": "The withdrawal period of this order ended on {date}. Please "
        "contact our customer service.",
        "not_withdrawable": "This order cannot be withdrawn from online (state: {state}). "
        "Please contact our customer service.",
        "nothing_left": "This order has no articles left that you can withdraw from.",
        "choose_lines": "Please choose at least one article, and for each at most the "
        "quantity delivered.",
        "missing": "Please enter your order number and your e-mail address.",
        "too_many": "Too many requests from your address. Please try again in {seconds} seconds.",
        "refused": "Your withdrawal could not be accepted. Please contact our customer service.",
        "whole_title": "Withdrawal from your order",
        "whole_intro": "Order {number} has not been shipped yet. A withdrawal is therefore "
        "from the whole order: every article is withdrawn from and the order is cancelled. "
        "What you have paid already is refunded.",
        "whole_review": "Your order has not been shipped yet: the withdrawal cancels it.",
        "cancelled": "Your order {number} is cancelled.",
        "refunded": "The {amount} you have paid already will be refunded.",
    },
}

STATES: dict[Language, dict[str, str]] = {
    "de": {
        "placed": "aufgegeben",
        "confirmed": "bestätigt",
        "paid": "bezahlt",
        "rejected": "abgelehnt",
        "cancelled": "storniert",
        "partially_shipped": "teilweise versandt",
        "shipped": "versandt",
        "delivered": "geliefert",
        "returned": "zurückgegeben",
        "partially_returned": "teilweise zurückgegeben",
    },
    "en": {},
}


def _date(moment: datetime, lang: Language) -> str:
    local = moment.astimezone(BERLIN)
    return f"{local:%d.%m.%Y}" if lang == "de" else f"{local:%d %B %Y}"


def _money(amount: Decimal, currency: str, lang: Language) -> str:
    if lang == "de":
        shown = f"{amount:,.2f}".replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
        return f"{shown} €" if currency == "EUR" else f"{shown} {currency}"
    return f"€{amount:,.2f}" if currency == "EUR" else f"{currency} {amount:,.2f}"


def refusal_text(error: DomainError, lang: Language, *, choosing: bool = False) -> str:
    """What a refusal means, in the page's language (never the English problem text)."""
    t = TEXTS[lang]
    if isinstance(error, RateLimited):
        return t["too_many"].format(seconds=error.retry_after_s)
    if isinstance(error, DeadlinePassed):
        return t["deadline_passed"].format(date=_date(error.deadline, lang))
    if isinstance(error, IllegalTransition):
        state = STATES[lang].get(error.current_state, error.current_state.replace("_", " "))
        return t["not_withdrawable"].format(state=state)
    if isinstance(error, NotFound):
        return t["unknown_withdrawal"] if error.kind == "withdrawal" else t["not_found"]
    if isinstance(error, Invalid):
        if error.field and error.field[0] in {"order_number", "email"}:
            return t["missing"]
        return t["choose_lines"] if choosing else t["nothing_left"]
    return t["refused"]


def status_of(error: DomainError) -> int:
    if isinstance(error, RateLimited):
        return 429
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, IllegalTransition):
        return 409
    if isinstance(error, Invalid):
        return 422
    return 409


class Pages:
    """The pages in one language; ``base`` is where the service is mounted (root path)."""

    def __init__(self, lang: Language, base: str = "") -> None:
        self.lang = lang
        self.t = TEXTS[lang]
        self.base = base.rstrip("/")

    def url(self, path: str) -> str:
        return escape(f"{self.base}{path}")

    def _layout(self, heading: str, body: str, *, switch_to: str | None = None) -> str:
        other = "en" if self.lang == "de" else "de"
        switch = ""
        if switch_to is not None:
            switch = (
                f'<p class="language"><a href="{self.url(switch_to)}?lang={other}" '
                f'hreflang="{other}" lang="{other}">{self.t["other_language"]}</a></p>'
            )
        return (
            "<!doctype html>\n"
            f'<html lang="{self.lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(self.t['title'])}</title>"
            f'<link rel="stylesheet" href="{self.url("/withdrawals/page/withdrawal.css")}">'
            "</head>\n<body><main>\n"
            f"{switch}<h1>{escape(heading)}</h1>\n{body}\n</main></body></html>\n"
        )

    def _hidden(self, **fields: str) -> str:
        return "".join(
            f'<input type="hidden" name="{name}" value="{escape(value)}">'
            for name, value in fields.items()
        )

    def _submit(self, step: str, label: str) -> str:
        return f'<p><button type="submit" name="step" value="{step}">{escape(label)}</button></p>\n'

    def _back(self) -> str:
        back = self.url("/withdrawals")
        return f'<p><a href="{back}?lang={self.lang}">{escape(self.t["back"])}</a></p>'

    def _problem(self, message: str | None) -> str:
        if not message:
            return ""
        return f'<p class="problem" role="alert">{escape(message)}</p>\n'

    def identify(
        self, *, order_number: str = "", email: str = "", problem: str | None = None
    ) -> str:
        """Step 1: the order number and e-mail; the button reads "Vertrag widerrufen"."""
        t = self.t
        body = (
            f"{self._problem(problem)}<p>{escape(t['intro'])}</p>\n"
            f'<form method="post" action="{self.url("/withdrawals/page/lines")}">'
            f"{self._hidden(lang=self.lang)}\n"
            f'<p><label for="order_number">{escape(t["order_number"])}</label>'
            f'<input id="order_number" name="order_number" required maxlength="32" '
            f'autocomplete="off" value="{escape(order_number)}"></p>\n'
            f'<p><label for="email">{escape(t["email"])}</label>'
            f'<input id="email" name="email" type="email" required maxlength="254" '
            f'autocomplete="email" value="{escape(email)}"></p>\n'
            f"{self._submit('start', t['start'])}</form>"
        )
        return self._layout(t["title"], body, switch_to="/withdrawals")

    def choose(
        self,
        shown: ShownWithdrawal,
        *,
        email: str,
        chosen: dict[int, int] | None = None,
        problem: str | None = None,
    ) -> str:
        """Step 2: the lines that can be withdrawn, by product name, with a quantity each;
        nothing shipped yet: the whole order, with no choice (it is cancelled)."""
        t = self.t
        if shown.cancels_order:
            return self._whole_order(shown, email=email, problem=problem)
        deadline = (
            t["deadline"].format(date=_date(shown.deadline, self.lang))
            if shown.deadline is not None
            else t["no_deadline"]
        )
        rows = []
        for line in shown.lines:
            value = line.quantity if chosen is None else chosen.get(line.line_no, 0)
            field = f"quantity-{line.line_no}"
            rows.append(
                f'<tr><td><label for="{field}">{escape(line.name)}</label></td>'
                f"<td>{escape(line.sku)}</td>"
                f'<td><input id="{field}" name="{field}" type="number" min="0" '
                f'max="{line.quantity}" value="{value}" inputmode="numeric"> '
                f"{escape(t['of'].format(n=line.quantity))}</td></tr>"
            )
        body = (
            f"{self._problem(problem)}"
            f"<p>{escape(t['choose_intro'].format(number=shown.order_number))}</p>\n"
            f"<p>{escape(deadline)}</p>\n"
            f'<form method="post" action="{self.url("/withdrawals/page/review")}">'
            f"{self._hidden(lang=self.lang, order_number=shown.order_number, email=email)}\n"
            f"<table><thead><tr><th>{escape(t['article'])}</th><th>{escape(t['sku'])}</th>"
            f"<th>{escape(t['quantity'])}</th></tr></thead>\n<tbody>"
            + "\n".join(rows)
            + "</tbody></table>\n"
            f"{self._submit('review', t['next'])}</form>\n{self._back()}"
        )
        return self._layout(t["choose_title"], body)

    def _whole_order(self, shown: ShownWithdrawal, *, email: str, problem: str | None) -> str:
        """Step 2 before shipment: every line is withdrawn from, the order is cancelled."""
        t = self.t
        hidden = self._hidden(
            lang=self.lang, order_number=shown.order_number, email=email, whole_order="yes"
        )
        body = (
            f"{self._problem(problem)}"
            f'<p class="whole-order">{escape(t["whole_intro"].format(number=shown.order_number))}'
            f"</p>\n{self._lines(shown)}\n"
            f'<form method="post" action="{self.url("/withdrawals/page/review")}">{hidden}\n'
            f"{self._submit('review', t['next'])}</form>\n{self._back()}"
        )
        return self._layout(t["whole_title"], body)

    def review(self, shown: ShownWithdrawal) -> str:
        """Step 3: what will be declared, and the distinct "Widerruf bestätigen" button."""
        t = self.t
        assert shown.withdrawal_id is not None
        action = self.url(f"/withdrawals/page/{shown.withdrawal_id}/confirm")
        body = (
            f"<p>{escape(t['review_intro'].format(number=shown.order_number))}</p>\n"
            f"{self._lines(shown)}\n{self._whole_review(shown)}"
            f"<p>{escape(t['review_hint'])}</p>\n"
            f'<form method="post" action="{action}">{self._hidden(lang=self.lang)}'
            f"{self._submit('confirm', t['confirm'])}</form>\n{self._back()}"
        )
        return self._layout(t["review_title"], body)

    def receipt(self, shown: ShownWithdrawal) -> str:
        """The confirmation of receipt: content and time, and a download to keep."""
        t = self.t
        if shown.received_at is None or shown.withdrawal_id is None:
            return self._layout(t["receipt_title"], f"<p>{escape(t['pending_receipt'])}</p>")
        download = self.url(f"/withdrawals/{shown.withdrawal_id}/receipt.txt")
        body = (
            f'<p class="received" role="status">{escape(self.message(shown))}</p>\n'
            + "".join(f'<p class="whole-order">{escape(x)}</p>\n' for x in self.cancelled(shown))
            + f"<p>{escape(t['receipt_lines'])}</p>\n{self._lines(shown)}\n"
            f"<p>{escape(t['reference'])}: <code>{escape(shown.withdrawal_id)}</code></p>\n"
            f"<p>{escape(t['keep'])}</p>\n"
            f'<p><a href="{download}?lang={self.lang}" download>{escape(t["download"])}</a></p>'
        )
        return self._layout(t["receipt_title"], body)

    def receipt_text(self, shown: ShownWithdrawal) -> str:
        """The receipt as a plain text file (what the customer downloads and keeps)."""
        t = self.t
        lines = "\n".join(f"  {x.quantity} x {x.name} ({x.sku})" for x in shown.lines)
        cancelled = "".join(f"{x}\n" for x in self.cancelled(shown))
        return (
            f"{t['receipt_title']}\n\n{self.message(shown)}\n{cancelled}\n"
            f"{t['receipt_lines']}\n{lines}\n\n{t['reference']}: {shown.withdrawal_id}\n"
        )

    def cancelled(self, shown: ShownWithdrawal) -> list[str]:
        """Before shipment: that the order is cancelled, and the refund of what was paid."""
        if not shown.cancels_order:
            return []
        said = [self.t["cancelled"].format(number=shown.order_number)]
        if shown.refund:
            amount = _money(shown.refund, shown.currency, self.lang)
            said.append(self.t["refunded"].format(amount=amount))
        return said

    def _whole_review(self, shown: ShownWithdrawal) -> str:
        if not shown.cancels_order:
            return ""
        return f'<p class="whole-order">{escape(self.t["whole_review"])}</p>\n'

    def message(self, shown: ShownWithdrawal) -> str:
        assert shown.received_at is not None
        if self.lang == "de":
            return confirmation_message(shown.order_number, shown.received_at)
        return _message_en(shown.order_number, shown.received_at)

    def refused(self, message: str) -> str:
        """A refusal with no form to show again (an unknown or stale withdrawal)."""
        return self._layout(self.t["error_title"], f"{self._problem(message)}{self._back()}")

    def _lines(self, shown: ShownWithdrawal) -> str:
        items: Sequence[str] = [
            f"<li>{x.quantity} &times; {escape(x.name)} <small>({escape(x.sku)})</small></li>"
            for x in shown.lines
        ]
        return "<ul>" + "".join(items) + "</ul>"
