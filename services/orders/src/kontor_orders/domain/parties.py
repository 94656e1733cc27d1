"""Checks of buyer data that need no lookup: country codes, VAT ids, coupon codes,
e-mail matching. Pure."""

from __future__ import annotations

import re

from kontor_servicekit.vat_ids import vat_id_check_problem

#: ISO 3166-1 alpha-2, officially assigned codes.
_ISO_COUNTRY_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI
    BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN
    CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK
    FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK
    ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP
    NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
"""
ISO_COUNTRIES = frozenset(_ISO_COUNTRY_CODES.split())

#: VAT identification number formats of the EU member states (and XI for Northern
#: Ireland), after the country prefix. Syntax only: whether the number exists is
#: for the VIES confirmation (§18e UStG), which needs a network call.
VAT_ID_FORMATS = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "EL": r"\d{9}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}",
    "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}",
    "HR": r"\d{11}",
    "HU": r"\d{8}",
    "IE": r"\d[A-Z0-9+*]\d{5}[A-Z]{1,2}",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"\d{2,10}",
    "SE": r"\d{12}",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
    "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
}


def normalize_vat_id(raw: str) -> str:
    """Upper case without spaces, dots or dashes (``de 123.456.789`` -> ``DE123456789``)."""
    return re.sub(r"[\s.\-]", "", raw).upper()


def vat_id_problem(vat_id: str) -> str | None:
    """Why ``vat_id`` (normalized) is not a well-formed EU VAT id, or None.

    The format of the member state, then its check digits (python-stdnum, offline);
    that the number is assigned is for the VIES confirmation, recorded as pending.
    """
    prefix, rest = vat_id[:2], vat_id[2:]
    pattern = VAT_ID_FORMATS.get(prefix)
    if pattern is None:
        return f"{prefix!r} is not an EU VAT id prefix (e.g. DE, AT, FR; Greece is EL)"
    if not re.fullmatch(pattern, rest):
        if prefix == "DE":
            return "a German USt-IdNr. is DE followed by 9 digits"
        return f"not a valid {prefix} VAT id"
    return vat_id_check_problem(vat_id)


COUPON_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")


def normalize_coupon_codes(codes: list[str]) -> list[str]:
    """Upper-cased, each once, in the order given; raises ValueError for a bad code."""
    result: list[str] = []
    for raw in codes:
        code = raw.strip().upper()
        if not COUPON_CODE.match(code):
            raise ValueError(f"{raw!r} is not a coupon code (3-32 letters, digits, - or _)")
        if code not in result:
            result.append(code)
    return result


def email_key(email: str) -> str:
    """The form e-mail addresses are matched in: ``Anna@Example.DE`` is ``anna@example.de``.

    Every lookup by e-mail (the order list's ``customer=``, the withdrawal form) compares
    this key, never the address as typed; the address itself is kept as given.
    """
    return email.strip().casefold()


def order_number_key(number: str) -> str:
    """Order numbers as typed by people: ``b-2026-000001 `` is ``B-2026-000001``."""
    return number.strip().upper()
