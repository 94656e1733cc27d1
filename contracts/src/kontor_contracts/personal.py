"""Which fields of a contract hold personal data: declared once, on the field (issue 13).

A field is marked ``Annotated[str, Personal("name")]``; the committed JSON schema then
carries ``"x-personal": "name"`` at that field, so an outside subscriber sees from the
schema alone what it receives. A field whose name looks personal but is not (a
product's ``name``, a campaign's ``subject``) is marked ``NotPersonal("why")`` and
shows ``"x-personal": false``: every such field carries a decision
(``contracts/tests/test_personal.py`` fails for a new one without).

The *kind* says what the value is and so what stands in its place once it is sealed
or erased (:func:`placeholder`): a pseudonymous e-mail for ``email`` (it still
validates as an e-mail and still tells two people apart), ``"—"`` for a required
text, ``None`` for an optional one.

Decisions (``docs/privacy.md`` lists them with where each field lives):

- a person's name, e-mail and phone; the street, the second address line (c/o, floor,
  Packstation number) and the company of an address (a sole trader's firm is their name);
- a buyer's VAT id (a sole trader's is tied to the person, and nothing tells the two
  apart);
- free text a customer writes or that is written about them (a complaint's
  description, a ticket's subject, note and resolution, a payment's remittance text);
- **not** the postcode, the city and the country: without street and name they name an
  area of thousands of people, and tax (place of supply, OSS), shipping zones and
  regional figures need them after an erasure too.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo

from .envelope import ContractModel
from .placeholders import PLACEHOLDER_DOMAIN, PLACEHOLDER_TEXT

__all__ = [
    "LOOKS_PERSONAL",
    "PLACEHOLDER_DOMAIN",
    "PLACEHOLDER_TEXT",
    "SEALED_ALGORITHM",
    "NotPersonal",
    "Personal",
    "PersonalField",
    "PersonalKind",
    "Sealed",
    "looks_personal",
    "personal_fields",
    "personal_paths_by_event",
    "placeholder",
    "undecided_fields",
]

PersonalKind = Literal["email", "name", "phone", "street", "address", "company", "vat_id", "text"]


LOOKS_PERSONAL = frozenset(
    {
        "email",
        "mail",
        "name",
        "phone",
        "mobile",
        "street",
        "iban",
        "message",
        "messages",
        "note",
        "notes",
        "company",
        "description",
        "subject",
        "resolution",
        "reference",
        "ip",
        "birthday",
        "transcript",
    }
)
"""Words of a field name (split at ``_``) that call for a decision: personal or explicitly
not. So do ``vat_id`` and ``address_line``; other ids (``credit_note_id``, ``photo_ids``)
are opaque and do not."""


@dataclass(frozen=True)
class Personal:
    """``Annotated`` marker: this field holds personal data of ``kind``."""

    kind: PersonalKind

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> Any:
        schema = handler(core_schema)
        schema["x-personal"] = self.kind
        return schema


@dataclass(frozen=True)
class NotPersonal:
    """``Annotated`` marker: named like personal data, decided not to be (and why)."""

    reason: str

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> Any:
        schema = handler(core_schema)
        schema["x-personal"] = False
        return schema


@dataclass(frozen=True)
class PersonalField:
    """One personal field of a model: ``customer.email``, ``lines[].name`` (``[]``: each item)."""

    path: str
    kind: PersonalKind
    required: bool


def _models_in(annotation: Any) -> list[tuple[type[BaseModel], bool]]:
    """The contract models an annotation holds, each with whether it is a list's item."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _models_in(arg)]
    if origin in (list, tuple, set, frozenset):
        return [(model, True) for arg in get_args(annotation) for model, _ in _models_in(arg)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, False)]
    return []


def _marker(info: FieldInfo, kind: type[Any]) -> Any:
    return next((m for m in info.metadata if isinstance(m, kind)), None)


def _walk(
    model: type[BaseModel], prefix: str, visit: Callable[[str, str, FieldInfo], None]
) -> None:
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        visit(path, name, info)
        for nested, is_item in _models_in(info.annotation):
            _walk(nested, f"{path}[]." if is_item else f"{path}.", visit)


def personal_fields(model: type[BaseModel]) -> tuple[PersonalField, ...]:
    """Every personal field of ``model``, nested models included, in declaration order."""
    found: list[PersonalField] = []

    def visit(path: str, name: str, info: FieldInfo) -> None:
        marker = _marker(info, Personal)
        if marker is not None:
            found.append(PersonalField(path, marker.kind, info.is_required()))

    _walk(model, "", visit)
    return tuple(found)


def looks_personal(field_name: str) -> bool:
    lowered = field_name.lower()
    if "vat_id" in lowered or "address_line" in lowered:
        return True
    words = lowered.split("_")
    if words[-1] in ("id", "ids"):
        return False
    return any(word.rstrip("0123456789") in LOOKS_PERSONAL for word in words)


def undecided_fields(model: type[BaseModel]) -> list[str]:
    """Paths of fields named like personal data that carry neither marker."""
    undecided: list[str] = []

    def visit(path: str, name: str, info: FieldInfo) -> None:
        if not looks_personal(name):
            return
        if _marker(info, Personal) is None and _marker(info, NotPersonal) is None:
            undecided.append(path)

    _walk(model, "", visit)
    return undecided


def placeholder(field: PersonalField, pseudonym: str) -> str | None:
    """What stands in the field's place once sealed or erased.

    ``pseudonym`` is the value's keyed pseudonym (``kontor_servicekit.privacy``): an
    e-mail becomes ``p-<pseudonym>@pseudonym.invalid``, so it still validates as an
    e-mail and the same person still has the same address everywhere.
    """
    if field.kind == "email":
        return f"p-{pseudonym}@{PLACEHOLDER_DOMAIN}"
    return PLACEHOLDER_TEXT if field.required else None


SEALED_ALGORITHM = "AES-256-GCM"


class Sealed(ContractModel):
    """The real values of a payload's personal fields, encrypted for one person (ADR 0034).

    A sealed payload carries placeholders in those fields (it still validates as v1)
    and this object as its optional ``sealed`` property. Only a holder of the person's
    data key reads them; once the key is destroyed nobody does.
    """

    alg: Literal["AES-256-GCM"] = Field(description="AEAD of the ciphertext")
    key_id: str = Field(min_length=1, description="Id of the person's data key")
    subject_id: str = Field(min_length=1, description="The person's pseudonymous id")
    nonce: str = Field(min_length=1, description="96-bit GCM nonce, base64url")
    ciphertext: str = Field(
        min_length=1, description="JSON {pointer: value} of the sealed fields, base64url"
    )
    paths: list[str] = Field(description="JSON pointers of the fields holding placeholders")


def personal_paths_by_event(registry: Any = None) -> dict[str, tuple[str, ...]]:
    """``{"OrderPlaced.v1": ("customer.email", ...), ...}`` for every registered event
    with personal fields (the registry's by default)."""
    if registry is None:
        from .registry import REGISTRY as registry
    found: dict[str, tuple[str, ...]] = {}
    for spec in registry.all_events():
        fields = personal_fields(spec.model)
        if fields:
            found[f"{spec.type}.v{spec.version}"] = tuple(f.path for f in fields)
    return found
