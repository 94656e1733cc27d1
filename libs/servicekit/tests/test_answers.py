"""Answers are rendered inside the unit of work: a response model that refuses the
result rolls the write back (issue 9: no response-model failure after a commit)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.bounds import MAX_AMOUNT, MAX_DOCUMENT_TOTAL
from kontor_servicekit.apitypes import MoneyAmount
from kontor_servicekit.fakes import FakeDatabase, FakeTransactor, FakeUnitOfWork
from kontor_servicekit.idempotency import Answers
from kontor_servicekit.uow import Transactor
from pydantic import BaseModel, ValidationError
from starlette.requests import Request

pytestmark = pytest.mark.unit


class TotalOut(BaseModel):
    total: MoneyAmount


class LedgerUnitOfWork(FakeUnitOfWork):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db)
        self.entries = self.table("entries", key=lambda e: e["id"])


def _request() -> Request:
    return Request({"type": "http", "method": "POST", "path": "/entries", "headers": []})


def _book(total: Decimal) -> Any:
    async def use_case(transactor: Transactor[LedgerUnitOfWork]) -> Decimal:
        async def work(uow: LedgerUnitOfWork) -> Decimal:
            uow.entries.insert({"id": "e-1", "total": total})
            return total

        return await transactor.run(work)

    return use_case


async def test_the_answer_is_rendered_before_the_commit() -> None:
    transactor = FakeTransactor(LedgerUnitOfWork)
    answers = Answers(store=None)  # type: ignore[arg-type]  # no key: the store is not used
    response = await answers.respond(
        _request(),
        transactor,
        _book(MAX_DOCUMENT_TOTAL),
        present=lambda total: TotalOut(total=total),
        status_code=201,
    )
    assert response.status_code == 201
    assert response.body == b'{"total":"237763190000.00"}'
    assert transactor.db.commits == 1


async def test_a_response_model_that_refuses_the_result_rolls_the_write_back() -> None:
    transactor = FakeTransactor(LedgerUnitOfWork)
    answers = Answers(store=None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        await answers.respond(
            _request(),
            transactor,
            _book(MAX_AMOUNT),  # beyond what the response model allows
            present=lambda total: TotalOut(total=total),
        )
    assert transactor.db.rows("entries") == []
    assert transactor.db.commits == 0


async def test_an_update_answer_is_rendered_before_the_commit_too() -> None:
    transactor = FakeTransactor(LedgerUnitOfWork)
    answers = Answers(store=None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        await answers.answer(
            transactor, _book(MAX_AMOUNT), present=lambda total: TotalOut(total=total)
        )
    assert transactor.db.rows("entries") == []
    assert transactor.db.commits == 0

    listed = await answers.answer(
        transactor, _book(Decimal("1.50")), present=lambda total: [TotalOut(total=total)] * 2
    )
    assert listed.body == b'[{"total":"1.50"},{"total":"1.50"}]'
    assert transactor.db.commits == 1


async def test_a_refusal_the_use_case_answers_itself_is_rendered_after_the_rollback() -> None:
    """The CSV import's shape: its block raises, the use case answers a report instead."""
    transactor = FakeTransactor(LedgerUnitOfWork)

    async def refused(inner: Transactor[LedgerUnitOfWork]) -> Decimal:
        try:
            return await _book(Decimal("-1"))(_Raising(inner))
        except RuntimeError:
            return Decimal("0")

    answer = await Answers(store=None).answer(  # type: ignore[arg-type]
        transactor, refused, present=lambda total: TotalOut(total=total)
    )
    assert answer.body == b'{"total":"0"}'
    assert transactor.db.rows("entries") == []


class _Raising:
    def __init__(self, inner: Transactor[LedgerUnitOfWork]) -> None:
        self.inner = inner

    async def run(self, work: Any, *, correlation_id: str | None = None) -> Any:
        async def failing(uow: LedgerUnitOfWork) -> Any:
            await work(uow)
            raise RuntimeError("refused")

        return await self.inner.run(failing, correlation_id=correlation_id)


async def test_a_created_answer_without_a_key_keeps_its_location() -> None:
    """``respond`` without an Idempotency-Key (and ``answer``) still say where it is."""
    transactor = FakeTransactor(LedgerUnitOfWork)
    answers = Answers(store=None)  # type: ignore[arg-type]  # no key: the store is not used
    responded = await answers.respond(
        _request(),
        transactor,
        _book(Decimal("2.00")),
        present=lambda total: TotalOut(total=total),
        status_code=201,
        location=lambda out: f"/entries/{out.total}",
    )
    assert responded.headers["Location"] == "/entries/2.00"
    answered = await answers.answer(
        FakeTransactor(LedgerUnitOfWork),
        _book(Decimal("3.00")),
        present=lambda total: TotalOut(total=total),
        status_code=202,
        location=lambda out: f"/entries/{out.total}",
    )
    assert (answered.status_code, answered.headers["Location"]) == (202, "/entries/3.00")


async def test_an_async_presenter_looks_up_before_the_commit_and_can_still_roll_back() -> None:
    """A presenter that awaits (billing asks who is erased, ADR 0113) renders inside the
    unit of work: its answer is the one sent, and a refusal there writes nothing."""
    transactor = FakeTransactor(LedgerUnitOfWork)
    answers = Answers(store=None)  # type: ignore[arg-type]  # no key: the store is not used
    seen_commits: list[int] = []

    async def present(total: Decimal) -> TotalOut:
        seen_commits.append(transactor.db.commits)  # rendered before this commit
        return TotalOut(total=total * 2)

    answered = await answers.answer(transactor, _book(Decimal("1.25")), present=present)
    assert answered.body == b'{"total":"2.50"}'
    assert (seen_commits, transactor.db.commits) == ([0], 1)
    responded = await answers.respond(
        _request(), FakeTransactor(LedgerUnitOfWork), _book(Decimal("1.00")), present=present
    )
    assert responded.body == b'{"total":"2.00"}'

    refusing = FakeTransactor(LedgerUnitOfWork)
    with pytest.raises(ValidationError):
        await answers.answer(refusing, _book(MAX_AMOUNT), present=present)
    assert (refusing.db.rows("entries"), refusing.db.commits) == ([], 0)
