"""Personal fields are declared once, on the contracts (issue 13, ADR 0034).

Every event's list of personal paths is written out here: a field that becomes (or
stops being) personal changes this file on purpose. A new field named like personal
data (e-mail, name, phone, street, IBAN, message, note, ...) fails
``test_every_field_named_like_personal_data_has_a_decision`` until it is marked
``Personal(...)`` or ``NotPersonal("why")``.
"""

import json
from typing import Annotated, Any

import pytest
from kontor_contracts import REGISTRY, Event
from kontor_contracts.compat import breaking_changes
from kontor_contracts.personal import (
    NotPersonal,
    Personal,
    PersonalField,
    looks_personal,
    personal_fields,
    personal_paths_by_event,
    placeholder,
    undecided_fields,
)
from kontor_contracts.schemas import SCHEMAS_DIR, schema_path

pytestmark = pytest.mark.unit

EXPECTED: dict[str, list[str]] = {
    "CartUpdated.v1": ["customer_email"],
    "CheckoutStarted.v1": ["customer_email"],
    "CartAbandoned.v1": ["customer_email"],
    "OrderPlaced.v1": [
        "customer.email",
        "customer.name",
        "customer.phone",
        "billing_address.name",
        "billing_address.company",
        "billing_address.street",
        "billing_address.address_line2",
        "shipping_address.name",
        "shipping_address.company",
        "shipping_address.street",
        "shipping_address.address_line2",
        "buyer_vat_id",
    ],
    "WithdrawalReceived.v1": ["customer.email", "customer.name", "customer.phone"],
    "ComplaintFiled.v1": ["description", "customer.email", "customer.name", "customer.phone"],
    "InvoiceIssued.v1": [
        "customer.email",
        "customer.name",
        "customer.phone",
        "billing_address.name",
        "billing_address.company",
        "billing_address.street",
        "billing_address.address_line2",
        "buyer_vat_id",
    ],
    "PaymentReceived.v1": ["reference"],
    "PaymentRefunded.v1": ["reference"],
    "QuoteAccepted.v1": [
        "customer.email",
        "customer.name",
        "customer.phone",
        "billing_address.name",
        "billing_address.company",
        "billing_address.street",
        "billing_address.address_line2",
        "shipping_address.name",
        "shipping_address.company",
        "shipping_address.street",
        "shipping_address.address_line2",
        "buyer_vat_id",
    ],
    "PaymentOverdue.v1": ["customer.email", "customer.name", "customer.phone"],
    "TicketOpened.v1": ["customer.email", "customer.name", "customer.phone", "subject"],
    "TicketUpdated.v1": ["note"],
    "TicketResolved.v1": ["resolution"],
    "CouponRedeemed.v1": ["customer_email"],
    "ConsentChanged.v2": ["email"],
    "DataExportRequested.v1": ["email"],
    "CustomerDataExported.v1": ["part"],
    "ErasureRequested.v1": ["email"],
}


def test_every_events_personal_paths_are_the_agreed_ones() -> None:
    assert {k: list(v) for k, v in personal_paths_by_event().items()} == EXPECTED


def test_every_field_named_like_personal_data_has_a_decision() -> None:
    undecided = {
        spec.type: undecided_fields(spec.model)
        for spec in REGISTRY.all_events()
        if undecided_fields(spec.model)
    }
    assert undecided == {}, "mark these Personal(kind) or NotPersonal('why')"


class _Contact(Event):
    event_type = "_Contact"
    contact_id: str
    contact_email: str
    street_name: str | None = None
    credit_note_id: str | None = None
    shipping: str | None = None
    nickname: Annotated[str | None, NotPersonal("a product's nickname")] = None


def test_a_new_field_named_like_personal_data_without_a_decision_is_found() -> None:
    assert undecided_fields(_Contact) == ["contact_email", "street_name"]
    assert looks_personal("buyer_vat_id") and looks_personal("address_line2")
    assert not looks_personal("shipping") and not looks_personal("photo_ids")


def test_the_committed_schemas_show_the_marker() -> None:
    spec = REGISTRY.spec_for("OrderPlaced", 1)
    schema = json.loads((SCHEMAS_DIR / schema_path(spec)).read_text(encoding="utf-8"))
    address = schema["$defs"]["Address"]["properties"]
    assert address["street"]["x-personal"] == "street"
    assert address["postcode"]["x-personal"] is False
    assert schema["$defs"]["Customer"]["properties"]["email"]["x-personal"] == "email"
    assert schema["properties"]["buyer_vat_id"]["x-personal"] == "vat_id"
    assert schema["properties"]["sealed"]["anyOf"][0] == {"$ref": "#/$defs/Sealed"}
    plain = REGISTRY.spec_for("OrderConfirmed", 1)
    assert "sealed" not in json.loads((SCHEMAS_DIR / schema_path(plain)).read_text())["properties"]


class _Before(Event):
    event_type = "_Person"
    person_id: str
    name: str
    phone: str | None = None


class _After(Event):
    event_type = "_Person"
    person_id: str
    name: Annotated[str, Personal("name")]
    phone: Annotated[str | None, Personal("phone")] = None


def _schema(model: type[Event]) -> dict[str, Any]:
    return model.model_json_schema(mode="serialization")


def test_marking_a_field_personal_is_compatible_and_dropping_the_mark_is_not() -> None:
    assert breaking_changes(_schema(_Before), _schema(_After)) == []
    problems = breaking_changes(_schema(_After), _schema(_Before))
    assert [p.split(":")[0] for p in problems] == ["$.name", "$.phone"]
    assert all("no longer marked personal" in p for p in problems)


def test_the_sealed_property_on_top_of_v1_is_compatible_with_every_committed_v1() -> None:
    # the measurement of ADR 0034: placeholders plus an optional "sealed" keep v1
    for spec in REGISTRY.all_events():
        committed = json.loads((SCHEMAS_DIR / schema_path(spec)).read_text(encoding="utf-8"))
        plain = _schema(spec.model)
        assert breaking_changes(plain, committed) == [], spec.type


def test_a_v2_that_puts_ciphertext_in_place_of_the_fields_would_break_v1() -> None:
    # the alternative ADR 0034 rejects: a field turned into {"ciphertext": ...}
    class _Sealed(Event):
        event_type = "_Person"
        person_id: str
        name: dict[str, str]

    assert breaking_changes(_schema(_After), _schema(_Sealed)) != []


def test_placeholders_keep_required_fields_filled_and_emails_valid() -> None:
    required = PersonalField("customer.name", "name", True)
    optional = PersonalField("customer.phone", "phone", False)
    email = PersonalField("customer.email", "email", True)
    assert placeholder(required, "abc") == "—"
    assert placeholder(optional, "abc") is None
    assert placeholder(email, "abc") == "p-abc@pseudonym.invalid"
    assert [f.path for f in personal_fields(_After)] == ["name", "phone"]
