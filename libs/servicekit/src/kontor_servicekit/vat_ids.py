"""EU VAT identification numbers: syntax and check digits, offline (python-stdnum).

Whether a number is *assigned* (and to whom) only the EU's VIES service can confirm
(§18e UStG); that is an online call, so callers record its confirmation as pending
and let a person confirm it. Pure: python-stdnum computes, it does no I/O, so domain
code may import this module as it imports :mod:`kontor_servicekit.clock`.
"""

from __future__ import annotations

from stdnum.eu import vat as _eu_vat
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

__all__ = ["EU_MEMBER_STATES", "country_of", "vat_id_check_problem"]

#: ISO 3166-1 codes of the EU member states (goods to Northern Ireland count too: XI
#: is its VAT prefix, the address says GB).
EU_MEMBER_STATES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)

#: VAT prefixes that are not the country's ISO code.
_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}


def country_of(vat_id: str) -> str:
    """The ISO 3166-1 country of a (normalized) VAT id's prefix: ``EL...`` -> ``GR``."""
    prefix = vat_id[:2].upper()
    return _PREFIX_COUNTRY.get(prefix, prefix)


def vat_id_check_problem(vat_id: str) -> str | None:
    """Why ``vat_id`` fails the member state's format or check digits, or None."""
    try:
        _eu_vat.validate(vat_id)
    except InvalidChecksum:
        return f"{vat_id} fails the check digit of a {vat_id[:2]} VAT id"
    except (InvalidFormat, InvalidLength, InvalidComponent):
        return f"{vat_id} is not a valid {vat_id[:2]} VAT id"
    except ValidationError as exc:
        return f"{vat_id} is not a valid VAT id ({exc})"
    return None
