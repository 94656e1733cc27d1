"""The seller's data as PUT /seller takes it: IBAN and BIC by schwifty, the VAT id by
its member state's format and check digit, and a tax number or VAT id at all."""

from __future__ import annotations

from typing import Any

import pytest
from kontor_billing.api.seller import SellerIn
from kontor_billing.application.bank import compact_bank_code
from pydantic import ValidationError

pytestmark = pytest.mark.unit

BODY: dict[str, Any] = {
    "name": "Musterhandel GmbH",
    "street": "Marktplatz 1",
    "postcode": "10117",
    "city": "Berlin",
    "country": "DE",
    "vat_id": "DE136695976",
    "tax_number": "30/123/45678",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
    "email": "buchhaltung@musterhandel.de",
    "registry": "Amtsgericht Berlin-Charlottenburg HRB 12345",
    "managing_directors": ["Erika Mustermann"],
}


def _errors(**changes: Any) -> list[tuple[Any, ...]]:
    with pytest.raises(ValidationError) as caught:
        SellerIn.model_validate({**BODY, **changes})
    return [e["loc"] for e in caught.value.errors()]


def test_the_issues_example_is_accepted_and_compacted() -> None:
    seller = SellerIn.model_validate({**BODY, "iban": "DE89 3704 0044 0532 0130 00"}).seller()
    assert seller.iban == "DE89370400440532013000"
    assert seller.managing_directors == ("Erika Mustermann",)
    assert seller.sample is False and seller.missing() == []


def test_a_wrong_iban_check_digit_a_bad_bic_and_a_bad_vat_id_are_refused() -> None:
    assert _errors(iban="DE89370400440532013001") == [("iban",)]
    assert _errors(bic="COBA") == [("bic",)]
    assert _errors(vat_id="DE136695977") == [("vat_id",)]


def test_without_vat_id_and_tax_number_the_seller_is_refused() -> None:
    assert _errors(vat_id=None, tax_number=None) == [()]


def test_compact_bank_code_names_the_kind() -> None:
    with pytest.raises(ValueError, match="not a valid BIC"):
        compact_bank_code("bic", "XX")
    assert compact_bank_code("bic", "cobadeffxxx") == "COBADEFFXXX"
