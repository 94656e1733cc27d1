"""Privacy requests over the in-memory unit of work (issue 13): orders coordinates an
export or erasure, records the services' answers, and is a participant itself."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kontor_contracts.events.orders import (
    CustomerDataErased,
    CustomerDataExported,
    DataExportRequested,
    ErasedItem,
    ErasureRequested,
)
from kontor_orders.application.complaints import FileComplaint, file_complaint
from kontor_orders.application.privacy import (
    OrdersPrivacy,
    PrivacyDesk,
    on_data_erased,
    on_data_exported,
    privacy_request,
    pseudonymous_email,
    request_privacy,
    settle_privacy_requests,
)
from kontor_orders.domain.order import Address, Customer
from kontor_orders.domain.privacy import PrivacyRequest, check_part
from kontor_servicekit.domain_errors import Conflict, Invalid, NotFound, Unavailable
from kontor_servicekit.privacy.keys import InMemoryKeyStore, MasterKey, Pseudonyms
from kontor_servicekit.privacy.participant import Subject, answer_erasure, answer_export
from kontor_servicekit.privacy.sealing import aggregate_subject_id
from kontor_servicekit.privacy.setup import PrivacyKit

pytestmark = pytest.mark.unit

MASTER = MasterKey(bytes(range(1, 33)))
BERT = Customer(email="bert@example.de", name="Bert Beispiel")
BERTS = Address(
    name="Bert Beispiel", street="Ring 9", postcode="20095", city="Hamburg", country="DE"
)


def desk(world: Any, expected: tuple[str, ...] = ("catalog", "orders")) -> PrivacyDesk:
    kit = PrivacyKit(MASTER, InMemoryKeyStore(MASTER), Pseudonyms.of(MASTER))
    return PrivacyDesk(world.transactor, kit, expected, keep_for=timedelta(days=30))


def subject(email: str = "anna@example.de") -> Subject:
    return Subject(Pseudonyms.of(MASTER).subject_id(email), email)


async def test_an_erasure_request_is_announced_by_pseudonym_and_destroys_the_key(
    world: Any,
) -> None:
    d = desk(world)
    assert d.kit.store is not None
    subject_id = Pseudonyms.of(MASTER).subject_id("anna@example.de")
    await d.kit.store.key_for(subject_id)
    request = await request_privacy(d, kind="erasure", email="Anna@Example.de", clock=world.clock)
    [announced] = world.new_events()
    assert isinstance(announced, ErasureRequested)
    assert (announced.request_id, announced.subject_id) == (request.id, subject_id)
    assert announced.expected == ["catalog", "orders"]
    assert await d.kit.store.find(subject_id) is None
    [stored] = world.db.rows("privacy_requests")
    assert (stored.status, stored.email, stored.missing) == ("pending", None, ["catalog", "orders"])
    assert stored.expires_at == world.clock() + timedelta(days=30)


async def test_an_export_is_complete_when_every_expected_service_has_answered(
    world: Any,
) -> None:
    d = desk(world)
    request = await request_privacy(d, kind="export", email="anna@example.de", clock=world.clock)
    [asked] = world.new_events()
    assert isinstance(asked, DataExportRequested) and asked.email == "anna@example.de"

    def part(service: str, part: dict[str, Any]) -> CustomerDataExported:
        return CustomerDataExported(
            request_id=request.id,
            service=service,
            subject_id=request.subject_id,
            part=part,
            exported_at=world.clock(),
        )

    await world.deliver(on_data_exported, part("orders", {"orders": [{"number": "B-1"}]}))
    pending = await privacy_request(d, request.id)
    assert (pending.status, pending.missing) == ("pending", ["catalog"])
    await world.deliver(on_data_exported, part("orders", {"orders": "a second copy"}))
    await world.deliver(on_data_exported, part("catalog", {}))
    done = await privacy_request(d, request.id)
    assert (done.status, done.missing, done.completed_at) == ("complete", [], world.clock())
    document = done.document()
    assert document["services"] == {"catalog": {}, "orders": {"orders": [{"number": "B-1"}]}}
    assert document["email"] == "anna@example.de" and document["complete"] is True


async def test_an_erasures_answers_say_what_each_service_did(world: Any) -> None:
    d = desk(world, expected=("orders",))
    request = await request_privacy(d, kind="erasure", email="anna@example.de", clock=world.clock)
    erased = CustomerDataErased(
        request_id=request.id,
        service="orders",
        subject_id=request.subject_id,
        anonymised=[ErasedItem(what="orders", count=1)],
        erased_at=world.clock(),
    )
    await world.deliver(on_data_erased, erased)
    done = await privacy_request(d, request.id)
    assert done.status == "complete"
    assert done.answers["orders"]["anonymised"] == [
        {"what": "orders", "count": 1, "why": None, "until": None}
    ]
    with pytest.raises(Conflict):
        done.document()


async def test_requests_are_refused_without_keys_without_services_or_of_another_kind(
    world: Any,
) -> None:
    no_keys = PrivacyDesk(world.transactor, PrivacyKit(None, None, None), ("orders",), timedelta(1))
    with pytest.raises(Unavailable):
        await request_privacy(no_keys, kind="export", email="a@b.de", clock=world.clock)
    with pytest.raises(Unavailable):
        await request_privacy(None, kind="export", email="a@b.de", clock=world.clock)
    with pytest.raises(Conflict):
        await request_privacy(desk(world, ()), kind="export", email="a@b.de", clock=world.clock)
    with pytest.raises(Invalid):
        await request_privacy(desk(world), kind="forget", email="a@b.de", clock=world.clock)
    with pytest.raises(NotFound):
        await privacy_request(desk(world), "prq_nope")
    assert world.db.rows("privacy_requests") == [] and world.new_events() == []


async def annas_and_berts_orders(world: Any) -> tuple[Any, Any]:
    anna = await world.delivered()
    await file_complaint(
        world.transactor,
        FileComplaint(order_id=anna.id, line_no=1, description="Naht offen, Anna M."),
        world.clock,
    )
    bert = await world.place(customer=BERT, shipping_address=BERTS)
    world.new_events()
    return anna, bert


async def test_orders_exports_the_persons_orders_and_complaints_and_nobody_elses(
    world: Any,
) -> None:
    anna, bert = await annas_and_berts_orders(world)
    answer = await world.transactor.run(
        lambda uow: answer_export(
            "orders", OrdersPrivacy(), _asked(DataExportRequested, world), uow, world.clock()
        )
    )
    assert answer.part is not None
    assert [o["number"] for o in answer.part["orders"]] == [anna.number]
    assert answer.part["orders"][0]["customer"]["name"] == "Anna Muster"
    assert answer.part["orders"][0]["shipping_address"]["street"] == "Hauptstr. 1"
    assert [c["description"] for c in answer.part["complaints"]] == ["Naht offen, Anna M."]
    assert bert.number not in str(answer.part)


def _asked(kind: type[Any], world: Any) -> Any:
    s = subject()
    return kind(
        request_id="prq_1",
        subject_id=s.subject_id,
        email=s.email,
        requested_at=world.clock(),
        expected=[],
    )


async def test_orders_anonymises_the_persons_orders_and_keeps_numbers_and_amounts(
    world: Any,
) -> None:
    anna, bert = await annas_and_berts_orders(world)
    answer = await world.transactor.run(
        lambda uow: answer_erasure(
            "orders", OrdersPrivacy(), _asked(ErasureRequested, world), uow, world.clock()
        )
    )
    erased = world.order(anna.id)
    assert erased.customer.email == pseudonymous_email(subject())
    assert (erased.customer.name, erased.shipping_address.street) == ("—", "—")
    assert (erased.shipping_address.postcode, erased.shipping_address.country) == ("10115", "DE")
    assert (erased.number, erased.lines, erased.status) == (anna.number, anna.lines, anna.status)
    assert erased.timeline[-1].event == "personal_data_erased"
    [complaint] = world.db.rows("complaints")
    assert complaint.description == "—"
    assert world.order(bert.id).customer == BERT
    assert [(i.what, i.count) for i in answer.anonymised] == [("orders", 1), ("complaints", 1)]
    [kept] = answer.retained
    assert "§147 AO" in (kept.why or "") and kept.until is not None
    # erased once: a second erasure finds nothing more to do
    again = await world.transactor.run(
        lambda uow: answer_erasure(
            "orders", OrdersPrivacy(), _asked(ErasureRequested, world), uow, world.clock()
        )
    )
    assert again.anonymised == []
    assert "Anna" not in str(world.db.rows("orders")) + str(world.db.rows("complaints"))


async def test_an_erasure_makes_earlier_exports_of_the_person_forget_their_data(
    world: Any,
) -> None:
    d = desk(world, expected=("orders",))
    export = await request_privacy(d, kind="export", email="anna@example.de", clock=world.clock)
    other = await request_privacy(d, kind="export", email="bert@example.de", clock=world.clock)
    for request, name in ((export, "Anna"), (other, "Bert")):
        answer = CustomerDataExported(
            request_id=request.id,
            service="orders",
            subject_id=request.subject_id,
            part={"orders": [{"customer": {"name": name}}]},
            exported_at=world.clock(),
        )
        await world.deliver(on_data_exported, answer)
    await request_privacy(d, kind="erasure", email="anna@example.de", clock=world.clock)
    forgotten = (await privacy_request(d, export.id)).document()
    assert forgotten["email"] is None and forgotten["services"] == {"orders": None}
    assert "Anna" not in str(world.db.rows("privacy_requests"))
    kept = (await privacy_request(d, other.id)).document()
    assert kept["services"]["orders"]["orders"][0]["customer"]["name"] == "Bert"


async def test_a_silent_service_times_the_request_out_and_a_late_answer_completes_it(
    world: Any,
) -> None:
    d = desk(world)
    d.answer_within = timedelta(hours=24)
    request = await request_privacy(d, kind="export", email="anna@example.de", clock=world.clock)
    world.new_events()
    answer = CustomerDataExported(
        request_id=request.id,
        service="orders",
        subject_id=request.subject_id,
        part={},
        exported_at=world.clock(),
    )
    await world.deliver(on_data_exported, answer)
    assert await settle_privacy_requests(d, world.clock) == 0
    assert (await privacy_request(d, request.id)).status == "pending"
    world.clock.advance(timedelta(hours=24))
    assert await settle_privacy_requests(d, world.clock) == 0  # timed out: the key stays
    late = await privacy_request(d, request.id)
    assert (late.status, late.missing) == ("timed_out", ["catalog"])
    assert late.key_destroyed_at is None
    await world.deliver(on_data_exported, answer.model_copy(update={"service": "catalog"}))
    assert (await privacy_request(d, request.id)).status == "complete"


async def test_the_requests_own_key_goes_once_it_is_complete_or_off_its_topic(world: Any) -> None:
    d = desk(world, expected=("orders",))
    assert d.kit.store is not None and d.kit.pseudonyms is not None
    done = await request_privacy(d, kind="erasure", email="anna@example.de", clock=world.clock)
    silent = await request_privacy(d, kind="export", email="bert@example.de", clock=world.clock)
    world.new_events()
    own = {
        r.id: aggregate_subject_id(d.kit.pseudonyms, "orders.privacy_request.v1", r.id)
        for r in (done, silent)
    }
    for subject_id in own.values():  # made when the request was sealed at the outbox
        await d.kit.store.key_for(subject_id)
    erased = CustomerDataErased(
        request_id=done.id, service="orders", subject_id=done.subject_id, erased_at=world.clock()
    )
    await world.deliver(on_data_erased, erased)
    assert await settle_privacy_requests(d, world.clock) == 1
    assert await d.kit.store.find(own[done.id]) is None
    assert await d.kit.store.find(own[silent.id]) is not None
    assert await settle_privacy_requests(d, world.clock) == 0  # once
    world.clock.advance(timedelta(days=7))  # the topic no longer holds the silent one
    assert await settle_privacy_requests(d, world.clock) == 1
    assert await d.kit.store.find(own[silent.id]) is None


def _stored_export(now: Any) -> Any:
    request = PrivacyRequest.open(
        request_id="prq_1",
        kind="export",
        subject_id="subj_1",
        email="anna@example.de",
        expected=("orders", "support"),
        now=now,
        keep_until=now + timedelta(days=30),
    )
    data = b'{"tickets": []}'
    answer = {
        "part": None,
        "blob_ref": "b1",
        "blob_size": len(data),
        "blob_sha256": hashlib.sha256(data).hexdigest(),
    }
    request.record_answer("support", answer, now)
    return request, data


def test_a_stored_part_is_read_when_it_is_what_the_answer_said_and_refused_otherwise() -> None:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    request, data = _stored_export(now)
    [ref] = request.stored_parts()
    assert check_part(ref, data) == ({"tickets": []}, None)
    assert "missing" in str(check_part(ref, None)[1])
    assert "bytes" in str(check_part(ref, data + b" ")[1])  # another length
    assert "SHA-256" in str(check_part(ref, data.replace(b"[]", b"{}"))[1])  # same length
    document = request.document({}, {"support": "missing"})
    assert document["complete"] is False and document["services"]["support"] is None
    assert request.document({"support": {"tickets": []}})["services"]["support"] == {"tickets": []}


def test_a_stored_part_is_kept_while_its_request_wants_it_and_a_late_one_after_erasure_not() -> (
    None
):
    now = datetime(2026, 12, 4, tzinfo=UTC)
    request, _ = _stored_export(now)
    assert request.keeps_blob("support", "b1", now)
    assert not request.keeps_blob("support", "b2", now)  # no answer names it
    assert request.keeps_blob("orders", "b3", now)  # written, its answer not here yet
    assert not request.keeps_blob("support", "b1", now + timedelta(days=30))  # expired
    assert request.forget_personal_data() and request.stored_parts() == []
    assert not request.keeps_blob("support", "b1", now)
    request.record_answer("orders", {"part": {"orders": ["B-1"]}, "blob_ref": "b3"}, now)
    assert request.answers["orders"]["part"] is None  # a late part after the erasure
    assert request.answers["orders"]["blob_ref"] is None
