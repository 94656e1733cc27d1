"""Sealing: a payload's personal fields encrypted for one person, placeholders in their place.

``seal(payload, fields, key, pseudonyms)`` returns a copy of an event payload whose
personal fields (``kontor_contracts.personal``) hold placeholders that still validate
as the same v1 model (an e-mail ``p-<pseudonym>@pseudonym.invalid``, a required text
``"—"``, an optional one ``None``) and that carries the real values, AES-256-GCM
encrypted with the person's data key, as its optional ``sealed`` property
(``kontor_contracts.personal.Sealed``). The additional data binds the ciphertext to
the key id, the subject and the replaced paths, so a ciphertext moved to another
payload or another person is refused too.

``unseal(payload, key)`` puts the real values back for a holder of the key; with no key
(destroyed: the person was erased) it returns the placeholders and nothing else. A
wrong key or a changed ciphertext raises :class:`SealBroken`.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator, Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from kontor_contracts.personal import (
    SEALED_ALGORITHM,
    PersonalField,
    Sealed,
    placeholder,
)
from kontor_contracts.placeholders import is_placeholder

from kontor_servicekit.privacy.keys import DataKey, Pseudonyms

__all__ = [
    "SEALED",
    "SealBroken",
    "is_placeholder",
    "is_sealed",
    "redact",
    "seal",
    "seal_values",
    "sealed_of",
    "unseal",
]

SEALED = "sealed"
"""The payload property that carries the ciphertext."""

NONCE_BYTES = 12


class SealBroken(ValueError):
    """A sealed payload that cannot be opened with the key given: wrong key, or tampered."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _clone(node: Any) -> Any:
    """A copy of a JSON payload (dicts and lists; the leaves are immutable): several
    times faster than ``copy.deepcopy``, which dominated the cost of a seal."""
    if isinstance(node, dict):
        return {key: _clone(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_clone(value) for value in node]
    return node


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _locate(
    node: Any, parts: Sequence[str], pointer: str
) -> Iterator[tuple[str, dict[str, Any], str]]:
    """``(pointer, parent, name)`` of every place ``parts`` (``["lines[]", "name"]``) names."""
    if not isinstance(node, dict) or not parts:
        return
    head, rest = parts[0], parts[1:]
    is_list = head.endswith("[]")
    name = head[:-2] if is_list else head
    if name not in node:
        return
    here = f"{pointer}/{_escape(name)}"
    if not rest:
        yield here, node, name
    elif is_list:
        items = node[name]
        if isinstance(items, list):
            for i, item in enumerate(items):
                yield from _locate(item, rest, f"{here}/{i}")
    else:
        yield from _locate(node[name], rest, here)


def _split(path: str) -> list[str]:
    return path.replace("[].", "[]\0").replace(".", "\0").split("\0")


def _aad(sealed: Sealed) -> bytes:
    return json.dumps(
        ["kontor-sealed-v1", sealed.key_id, sealed.subject_id, sorted(sealed.paths)],
        separators=(",", ":"),
    ).encode()


def redact(
    payload: dict[str, Any], fields: Sequence[PersonalField], pseudonyms: Pseudonyms
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A copy of ``payload`` with placeholders in its personal fields, and the values they
    replaced (``{pointer: value}``; placeholders and nulls are not values)."""
    out: dict[str, Any] = _clone(payload)
    out.pop(SEALED, None)
    values: dict[str, Any] = {}
    for field in fields:
        for pointer, parent, name in _locate(out, _split(field.path), ""):
            value = parent[name]
            if value is None or is_placeholder(value):
                continue
            values[pointer] = value
            pseudonym = pseudonyms.pseudonym(str(value)) if field.kind == "email" else ""
            parent[name] = placeholder(field, pseudonym)
    return out, values


def seal(
    payload: dict[str, Any],
    fields: Sequence[PersonalField],
    key: DataKey,
    pseudonyms: Pseudonyms,
) -> dict[str, Any]:
    """A copy of ``payload`` with its personal values replaced and sealed (see module)."""
    out, values = redact(payload, fields, pseudonyms)
    return seal_values(out, values, key)


def seal_values(redacted: dict[str, Any], values: dict[str, Any], key: DataKey) -> dict[str, Any]:
    """``redacted`` (from :func:`redact`) carrying ``values`` sealed with ``key``."""
    out = redacted
    if not values:
        return out
    nonce = os.urandom(NONCE_BYTES)
    header = Sealed(
        alg=SEALED_ALGORITHM,
        key_id=key.key_id,
        subject_id=key.subject_id,
        nonce=_b64(nonce),
        ciphertext="-",
        paths=sorted(values),
    )
    plaintext = json.dumps(values, sort_keys=True, ensure_ascii=False).encode()
    ciphertext = AESGCM(key.secret).encrypt(nonce, plaintext, _aad(header))
    out[SEALED] = header.model_copy(update={"ciphertext": _b64(ciphertext)}).model_dump(mode="json")
    return out


def is_sealed(payload: dict[str, Any]) -> bool:
    return isinstance(payload.get(SEALED), dict)


def sealed_of(payload: dict[str, Any]) -> Sealed | None:
    """The ``sealed`` property, parsed (None for a payload that was never sealed)."""
    raw = payload.get(SEALED)
    return None if raw is None else Sealed.model_validate(raw)


def _set(node: Any, pointer: str, value: Any) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def unseal(payload: dict[str, Any], key: DataKey | None) -> dict[str, Any]:
    """The payload with its real values for a holder of ``key``; placeholders without one.

    ``key`` None means the person's key is gone (erased): what comes back is the
    placeholders, and the ciphertext is dropped as well, since nobody can read it.
    """
    header = sealed_of(payload)
    out: dict[str, Any] = _clone(payload)
    out.pop(SEALED, None)
    if header is None or key is None:
        return out
    if key.key_id != header.key_id or key.subject_id != header.subject_id:
        raise SealBroken(
            f"sealed with key {header.key_id} of {header.subject_id}, not with {key.key_id}"
        )
    try:
        plaintext = AESGCM(key.secret).decrypt(
            _unb64(header.nonce), _unb64(header.ciphertext), _aad(header)
        )
    except (InvalidTag, ValueError) as exc:
        raise SealBroken("the sealed values do not open with this key: changed or forged") from exc
    values = json.loads(plaintext)
    if sorted(values) != sorted(header.paths):
        raise SealBroken("the sealed values do not match the paths they claim")
    for pointer, value in values.items():
        _set(out, pointer, value)
    return out
