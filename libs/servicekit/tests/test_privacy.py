"""Sealing personal fields per person, and destroying the key (crypto-shredding, ADR 0034)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from kontor_contracts import REGISTRY
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.orders import (
    CustomerDataErased,
    CustomerDataExported,
    DataExportRequested,
    ErasedItem,
    ErasureRequested,
)
from kontor_contracts.examples import load_example
from kontor_contracts.personal import personal_fields, personal_paths_by_event
from kontor_servicekit.domain_errors import Invalid
from kontor_servicekit.fakes import FakeDatabase, FakeTransactor, FakeUnitOfWork, InMemoryBlobs
from kontor_servicekit.privacy.keys import InMemoryKeyStore, MasterKey, Pseudonyms
from kontor_servicekit.privacy.participant import (
    MAX_PART_BYTES,
    ErasureSummary,
    ExportParts,
    Subject,
    answer_erasure,
    answer_export,
    encode_part,
)
from kontor_servicekit.privacy.seal import SEALED, SealBroken, seal, unseal
from kontor_servicekit.privacy.sealing import EnvelopeSealer
from kontor_servicekit.settings import DEFAULT_KAFKA_MAX_MESSAGE_BYTES, settings_for

pytestmark = pytest.mark.unit

MASTER = MasterKey(bytes(range(32)))
PSEUDONYMS = Pseudonyms.of(MASTER)
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
ORDER_PLACED = REGISTRY.spec_for("OrderPlaced", 1).model


def _order_payload() -> dict[str, Any]:
    return load_example("OrderPlaced").payload


async def _sealed_order(store: InMemoryKeyStore) -> tuple[dict[str, Any], dict[str, Any], str]:
    payload = _order_payload()
    subject = PSEUDONYMS.subject_id(payload["customer"]["email"])
    key = await store.key_for(subject)
    return payload, seal(payload, personal_fields(ORDER_PLACED), key, PSEUDONYMS), subject


async def test_a_sealed_payload_opens_to_the_original_for_the_key_holder() -> None:
    store = InMemoryKeyStore(MASTER)
    payload, sealed, subject = await _sealed_order(store)
    assert sealed[SEALED]["alg"] == "AES-256-GCM"
    assert sealed[SEALED]["subject_id"] == subject
    assert unseal(sealed, await store.find(subject)) == payload


async def test_the_sealed_payload_shows_no_personal_value_and_still_validates_as_v1() -> None:
    store = InMemoryKeyStore(MASTER)
    payload, sealed, subject = await _sealed_order(store)
    wire = json.dumps(sealed, ensure_ascii=False)
    for value in (
        payload["customer"]["email"],
        payload["customer"]["name"],
        payload["shipping_address"]["street"],
    ):
        assert value not in wire
    event = ORDER_PLACED.model_validate(sealed)
    assert event.customer.email == f"p-{subject.removeprefix('subj_')}@pseudonym.invalid"
    assert event.customer.name == "—"
    # what is not personal stays readable
    assert event.shipping_address.postcode == payload["shipping_address"]["postcode"]
    assert str(event.gross_total) == payload["gross_total"]


async def test_another_persons_key_does_not_open_it() -> None:
    store = InMemoryKeyStore(MASTER)
    _, sealed, _ = await _sealed_order(store)
    other = await store.key_for(PSEUDONYMS.subject_id("someone@example.de"))
    with pytest.raises(SealBroken):
        unseal(sealed, other)


async def test_a_key_with_the_right_ids_but_other_bytes_does_not_open_it() -> None:
    store = InMemoryKeyStore(MASTER)
    _, sealed, subject = await _sealed_order(store)
    real = await store.key_for(subject)
    forged = type(real)(real.subject_id, real.key_id, bytes(32))
    with pytest.raises(SealBroken):
        unseal(sealed, forged)


@pytest.mark.parametrize("change", ["ciphertext", "paths", "nonce"])
async def test_a_changed_seal_is_refused(change: str) -> None:
    store = InMemoryKeyStore(MASTER)
    _, sealed, subject = await _sealed_order(store)
    header = sealed[SEALED]
    if change == "ciphertext":
        text = header["ciphertext"]
        header["ciphertext"] = text[:10] + ("A" if text[10] != "A" else "B") + text[11:]
    elif change == "paths":
        header["paths"] = header["paths"][1:]
    else:
        header["nonce"] = "AAAAAAAAAAAAAAAA"
    with pytest.raises(SealBroken):
        unseal(sealed, await store.find(subject))


async def test_after_the_key_is_destroyed_only_the_placeholders_remain() -> None:
    store = InMemoryKeyStore(MASTER)
    payload, sealed, subject = await _sealed_order(store)
    assert await store.destroy(subject) is True
    assert await store.find(subject) is None
    opened = unseal(sealed, await store.find(subject))
    assert SEALED not in opened
    assert opened == {k: v for k, v in sealed.items() if k != SEALED}
    assert payload["customer"]["name"] not in json.dumps(opened, ensure_ascii=False)
    assert await store.destroy(subject) is False


async def test_a_key_made_again_after_destruction_is_a_new_key() -> None:
    store = InMemoryKeyStore(MASTER)
    _, sealed, subject = await _sealed_order(store)
    await store.destroy(subject)
    fresh = await store.key_for(subject)
    assert fresh.key_id != sealed[SEALED]["key_id"]
    with pytest.raises(SealBroken):
        unseal(sealed, fresh)


@pytest.mark.parametrize("name", sorted(personal_paths_by_event()))
async def test_placeholders_validate_against_every_model_with_personal_fields(
    name: str,
) -> None:
    event_type, _, version = name.rpartition(".v")
    spec = REGISTRY.spec_for(event_type, int(version))
    payload = load_example(event_type, int(version)).payload
    store = InMemoryKeyStore(MASTER)
    key = await store.key_for(PSEUDONYMS.subject_id("anna@example.de"))
    sealed = seal(payload, personal_fields(spec.model), key, PSEUDONYMS)
    assert SEALED in sealed, "the example fills at least one personal field"
    spec.model.model_validate(sealed)
    assert unseal(sealed, key) == payload


def test_a_subject_id_is_the_same_for_the_same_person_in_every_service() -> None:
    here, there = Pseudonyms.of(MASTER), Pseudonyms.of(MasterKey(bytes(range(32))))
    assert here.subject_id("Anna.Muster@Example.de ") == there.subject_id("anna.muster@example.de")
    assert here.subject_id("anna@example.de").startswith("subj_")
    assert here.subject_id("anna@example.de") != here.subject_id("bert@example.de")
    assert Pseudonyms.of(MasterKey.generate()).subject_id("anna@example.de") != here.subject_id(
        "anna@example.de"
    )


async def test_the_store_keeps_keys_wrapped_by_the_master_key_only() -> None:
    store = InMemoryKeyStore(MASTER)
    key = await store.key_for("subj_1")
    assert await store.key_for("subj_1") == key
    record = store.records["subj_1"]
    assert key.secret not in record["wrapped"] and record["kek_id"] == MASTER.kek_id
    stranger = InMemoryKeyStore(MasterKey.generate())
    stranger.records = store.records
    with pytest.raises(ValueError, match="wrapped by"):
        await stranger.find("subj_1")
    assert "secret" not in repr(MASTER) and str(list(MASTER.secret)) not in repr(MASTER)


def test_the_master_key_file_is_made_once_and_private(tmp_path: Any) -> None:
    path = tmp_path / "keys" / "privacy-kek"
    first = MasterKey.create_file(path)
    assert MasterKey.create_file(path) == first
    assert path.stat().st_mode & 0o777 == 0o600
    assert MasterKey.from_text(first.to_text()) == first


class _Participant:
    def __init__(self, part: dict[str, Any]) -> None:
        self.part = part
        self.erased: list[str] = []

    async def export(self, subject: Subject, uow: FakeUnitOfWork) -> dict[str, Any]:
        return self.part

    async def erase(self, subject: Subject, uow: FakeUnitOfWork, now: datetime) -> ErasureSummary:
        self.erased.append(subject.email)
        return ErasureSummary(anonymised=[ErasedItem(what="things", count=2)])


def _request(kind: type[Any]) -> Any:
    return kind(
        request_id="prq_1",
        subject_id=PSEUDONYMS.subject_id("anna@example.de"),
        email="anna@example.de",
        requested_at=NOW,
        expected=["catalog"],
    )


async def test_a_participant_answers_an_export_and_an_erasure_in_the_requests_unit() -> None:
    participant = _Participant({"things": [{"email": "anna@example.de"}]})
    transactor = FakeTransactor(FakeUnitOfWork, FakeDatabase())
    await transactor.run(
        lambda uow: answer_export("catalog", participant, _request(DataExportRequested), uow, NOW)
    )
    await transactor.run(
        lambda uow: answer_erasure("catalog", participant, _request(ErasureRequested), uow, NOW)
    )
    exported, erased = transactor.db.events()
    assert isinstance(exported, CustomerDataExported) and exported.part == participant.part
    assert (exported.service, exported.request_id) == ("catalog", "prq_1")
    assert isinstance(erased, CustomerDataErased) and erased.anonymised[0].count == 2
    assert participant.erased == ["anna@example.de"]


async def test_a_part_too_large_for_an_event_is_refused_not_cut() -> None:
    participant = _Participant({"blob": "x" * (800 * 1024)})
    transactor = FakeTransactor(FakeUnitOfWork, FakeDatabase())
    with pytest.raises(Invalid):
        await transactor.run(
            lambda uow: answer_export(
                "catalog", participant, _request(DataExportRequested), uow, NOW
            )
        )
    assert transactor.db.events() == []


async def _answered(part: dict[str, Any], blobs: InMemoryBlobs) -> CustomerDataExported:
    """Support's answer to an export with ``part``, parts above 1,000 bytes in ``blobs``."""
    transactor = FakeTransactor(FakeUnitOfWork, FakeDatabase())
    parts = ExportParts(blobs, inline_max_bytes=1000)
    request = _request(DataExportRequested)
    await transactor.run(
        lambda uow: answer_export("support", _Participant(part), request, uow, NOW, parts=parts)
    )
    [answer] = transactor.db.events()
    assert isinstance(answer, CustomerDataExported)
    return answer


async def test_a_part_above_the_inline_limit_is_stored_and_the_answer_names_and_digests_it() -> (
    None
):
    blobs = InMemoryBlobs()
    answer = await _answered({"tickets": [{"text": "ä" * 600, "at": NOW}]}, blobs)
    assert answer.part is None
    data, content_type, metadata = blobs.files[str(answer.blob_ref)]
    assert content_type == "application/json" and len(data) == answer.blob_size > 1000
    assert hashlib.sha256(data).hexdigest() == answer.blob_sha256 == metadata["sha256"]
    assert (metadata["request_id"], metadata["service"]) == ("prq_1", "support")
    assert json.loads(data) == {"tickets": [{"text": "ä" * 600, "at": "2026-12-02T10:00:00Z"}]}


async def test_a_part_within_the_inline_limit_stays_in_the_event() -> None:
    blobs = InMemoryBlobs()
    answer = await _answered({"things": [1, 2, 3]}, blobs)
    assert answer.part == {"things": [1, 2, 3]} and answer.blob_ref is None
    assert blobs.files == {}


async def test_a_part_at_the_default_inline_limit_still_fits_a_message_once_sealed() -> None:
    line = "Hallo, hier die ganze Vorgeschichte meiner Bestellung. "
    text = (line * (MAX_PART_BYTES // len(line) + 1))[: MAX_PART_BYTES - len('{"text":""}')]
    part = {"text": text}
    assert len(encode_part(part)) == MAX_PART_BYTES
    answer = CustomerDataExported(
        request_id="prq_1",
        service="support",
        subject_id=PSEUDONYMS.subject_id("anna@example.de"),
        part=part,
        exported_at=NOW,
    )
    sealer = EnvelopeSealer(InMemoryKeyStore(MasterKey.generate()), PSEUDONYMS)
    sealed = await sealer.seal(Envelope.wrap(answer, producer="support", aggregate_id="prq_1"))
    assert sealed.payload[SEALED]  # the part travels encrypted: a third more bytes
    assert len(sealed.to_bytes()) <= DEFAULT_KAFKA_MAX_MESSAGE_BYTES - 32 * 1024


def test_an_inline_limit_that_would_not_fit_a_message_once_sealed_is_refused() -> None:
    with pytest.raises(ValueError, match="privacy_export_inline_max_bytes"):
        settings_for("support", privacy_export_inline_max_bytes=768 * 1024)
    bigger = settings_for(
        "support", privacy_export_inline_max_bytes=768 * 1024, kafka_max_message_bytes=2**21
    )
    assert bigger.privacy_export_inline_max_bytes == 768 * 1024
