"""Answers built before the commit, and ``Idempotency-Key`` on the create routes (ADR 0015).

Two guarantees for a route that writes:

1. **No response-model failure after a committed write.** :meth:`Answers.respond` runs
   the use case with a transactor that renders the route's response model *inside* the
   unit of work, after the use case's block and before the commit. A model that does
   not accept the result raises there, and the transaction rolls back: nothing stored,
   nothing announced.
2. **A retried request returns the first answer** (draft-ietf-httpapi-idempotency-key-
   header, with Stripe's semantics). With an ``Idempotency-Key`` header:

   - first request: the key is claimed (``in_flight``) before the work; the answer
     (status, body, Location) is stored *in the same transaction as the effect*;
   - same key, same request (method, path and body): the stored answer is replayed,
     with ``Idempotent-Replayed: true``, and nothing runs again;
   - same key, different request: 422;
   - same key while the first is still running: 409 (retry later);
   - a request that fails (any error) stores no answer and frees the key: nothing
     was written, so running it again is safe;
   - keys expire after :data:`KEY_TTL` (a TTL index; an expired key counts as new), a
     claim whose process died is taken over after :data:`CLAIM_LEASE`.

``present`` may be a coroutine function: it may look up what the caller may see of the
result (billing hides an erased person, ADR 0113) and still renders before the commit.
A replay answers the stored body, or what the route's ``replayed`` makes of it (the same
answer as the caller may see it now).

Keys are per service; clients should use a fresh UUID per intended effect.
"""

from __future__ import annotations

import hashlib
import inspect
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Header, Request
from fastapi.responses import Response
from pydantic import BaseModel
from pymongo.errors import DuplicateKeyError

from kontor_servicekit.domain_errors import Conflict, Invalid
from kontor_servicekit.store import IDEMPOTENCY, Document, Store
from kontor_servicekit.uow import Transactor

__all__ = [
    "CLAIM_LEASE",
    "IDEMPOTENCY",
    "KEY_TTL",
    "Answers",
    "IdempotencyKey",
    "KeyInFlight",
    "KeyReused",
]


KEY_TTL = timedelta(hours=24)
CLAIM_LEASE = timedelta(seconds=60)

R = TypeVar("R")
U = TypeVar("U")
Model = BaseModel | Sequence[BaseModel]
Presenter = Callable[[R], Model | Awaitable[Model]]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Makes a retry safe (draft-ietf-httpapi-idempotency-key-header): "
        "the same key with the same request replays the first answer; with a different "
        "request 422; while the first is still running 409. Keys expire after 24 h. "
        "Use a fresh UUID per intended effect.",
        examples=["8e03978e-40d5-43e8-bc93-6894a57f9324"],
    ),
]
"""The optional ``Idempotency-Key`` request header (printable ASCII, up to 255 chars)."""


class KeyInFlight(Conflict):
    """The first request with this key is still running (409)."""

    def __init__(self) -> None:
        super().__init__("a request with this Idempotency-Key is still being processed; retry")


class KeyReused(Invalid):
    """The key was used for a different request (422, as the draft says)."""

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was used for a different request (method, path or body)",
            field=("header", "Idempotency-Key"),
            type_="idempotency_key_reused",
        )


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    location: str | None

    def with_body(self, body: bytes) -> Answer:
        return Answer(self.status, body, self.location)

    def response(self, *, replayed: bool) -> Response:
        headers = {"Location": self.location} if self.location else {}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(
            self.body, status_code=self.status, media_type="application/json", headers=headers
        )


def fingerprint(method: str, path: str, body: BaseModel | None) -> str:
    """What makes two requests "the same": method, path and the validated body."""
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    if body is not None:
        digest.update(body.model_dump_json().encode())
    return digest.hexdigest()


class _Rendering(Generic[U]):
    """A transactor that renders the answer inside the unit of work, before the commit."""

    def __init__(
        self,
        inner: Transactor[U],
        render: Callable[[Any], Awaitable[Answer]],
        store_answer: Callable[[Any, Answer], Awaitable[None]] | None,
    ) -> None:
        self.inner = inner
        self.render = render
        self.store_answer = store_answer
        self.answer: Answer | None = None

    async def run(
        self, work: Callable[[U], Awaitable[R]], *, correlation_id: str | None = None
    ) -> R:
        async def whole(uow: U) -> R:
            result = await work(uow)
            answer = await self.render(result)
            if self.store_answer is not None:
                await self.store_answer(uow, answer)
            self.answer = answer
            return result

        return await self.inner.run(whole, correlation_id=correlation_id)


class Answers:
    """The service's answers: ``await ctx.answers.respond(...)`` in a writing route."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))

    async def respond(
        self,
        request: Request,
        transactor: Transactor[U],
        use_case: Callable[[Transactor[U]], Awaitable[R]],
        *,
        present: Presenter[R],
        status_code: int = 200,
        key: str | None = None,
        body: BaseModel | None = None,
        location: Callable[[Any], str] | None = None,
        replayed: Callable[[bytes], Awaitable[bytes]] | None = None,
    ) -> Response:
        """Run ``use_case``; answer ``present(result)``, rendered before the commit.

        ``use_case`` gets the transactor to run its block with (it must call ``run``
        once). ``key`` is the Idempotency-Key header, ``body`` the validated request
        body (part of what makes a retry "the same request"). ``replayed`` turns a
        stored body into the one this caller gets now (status and Location stay).
        """

        render = _renderer(present, status_code, location)
        if key is None:
            return await self.answer(
                transactor, use_case, present=present, status_code=status_code, location=location
            )

        token = str(uuid.uuid4())
        replay = await self._claim(key, fingerprint(request.method, request.url.path, body), token)
        if replay is not None:
            if replayed is not None:
                replay = replay.with_body(await replayed(replay.body))
            return replay.response(replayed=True)

        async def store_answer(uow: Any, answer: Answer) -> None:
            await self._complete(uow, key, token, answer)

        rendering = _Rendering(transactor, render, store_answer)
        try:
            await use_case(rendering)
        except BaseException:
            await self._release(key, token)
            raise
        assert rendering.answer is not None, "the use case ran no unit of work"
        return rendering.answer.response(replayed=False)

    async def answer(
        self,
        transactor: Transactor[U],
        use_case: Callable[[Transactor[U]], Awaitable[R]],
        *,
        present: Presenter[R],
        status_code: int = 200,
        location: Callable[[Any], str] | None = None,
    ) -> Response:
        """Run ``use_case``; answer ``present(result)``, rendered before the commit.

        For every state-changing route without an Idempotency-Key (updates, state
        changes): a result the response model refuses rolls the write back (issue 9).
        ``present`` gets the result of the use case's block (the use case must return
        it as it is), and may answer a list of models (a JSON array). A use case whose
        block did not commit (it raised and the use case answered a refusal, as the CSV
        import does) wrote nothing: its result is rendered after the block.
        """
        render = _renderer(present, status_code, location)
        rendering: _Rendering[U] = _Rendering(transactor, render, None)
        result = await use_case(rendering)
        answer = rendering.answer if rendering.answer is not None else await render(result)
        return answer.response(replayed=False)

    async def _claim(self, key: str, print_: str, token: str) -> Answer | None:
        """Claim ``key`` for this request, or the stored answer to replay."""
        keys = self.store.db[IDEMPOTENCY]
        now = self.clock()
        claim = {
            "_id": key,
            "state": "in_flight",
            "fingerprint": print_,
            "token": token,
            "claimed_at": now,
            "expires_at": now + KEY_TTL,
        }
        try:
            await keys.insert_one(claim)
            return None
        except DuplicateKeyError:
            pass
        found: Document | None = await keys.find_one({"_id": key})
        if found is None or _aware(found["expires_at"]) <= now or _stale(found, now):
            # expired (the TTL monitor has not run yet) or a dead process's claim: take over
            taken = await keys.replace_one(
                {"_id": key, "token": found["token"]} if found else {"_id": key},
                claim,
                upsert=found is None,
            )
            if taken.matched_count or taken.upserted_id is not None:
                return None
            raise KeyInFlight()
        if found["fingerprint"] != print_:
            raise KeyReused()
        if found["state"] == "in_flight":
            raise KeyInFlight()
        return Answer(found["status"], found["body"], found.get("location"))

    async def _complete(self, uow: Any, key: str, token: str, answer: Answer) -> None:
        """Store the answer in the unit of work's own transaction (with the effect)."""
        tx = uow.tx
        done = await tx.db[IDEMPOTENCY].update_one(
            {"_id": key, "token": token, "state": "in_flight"},
            {
                "$set": {
                    "state": "done",
                    "status": answer.status,
                    "body": answer.body,
                    "location": answer.location,
                }
            },
            session=tx.session,
        )
        if done.matched_count != 1:  # the claim was taken over meanwhile: do not run twice
            raise KeyInFlight()

    async def _release(self, key: str, token: str) -> None:
        await self.store.db[IDEMPOTENCY].delete_one(
            {"_id": key, "token": token, "state": "in_flight"}
        )


def _renderer(
    present: Presenter[Any],
    status_code: int,
    location: Callable[[Any], str] | None,
) -> Callable[[Any], Awaitable[Answer]]:
    async def render(result: Any) -> Answer:
        presented = present(result)
        model: Model = await presented if inspect.isawaitable(presented) else presented
        if isinstance(model, BaseModel):
            body = model.model_dump_json().encode()
        else:
            body = b"[" + b",".join(item.model_dump_json().encode() for item in model) + b"]"
        return Answer(status_code, body, location(model) if location else None)

    return render


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _stale(found: Document, now: datetime) -> bool:
    return bool(found["state"] == "in_flight" and _aware(found["claimed_at"]) + CLAIM_LEASE <= now)
