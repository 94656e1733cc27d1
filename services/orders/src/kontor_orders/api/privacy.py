"""HTTP routes of privacy requests (issue 13): export or erase a customer's data.

``POST /privacy/requests`` asks every service (``KONTOR_ORDERS_PRIVACY_EXPECTED_SERVICES``)
through ``orders.privacy_request.v1``; ``GET /privacy/requests/{id}`` shows who has
answered and, for an export, the gathered document; ``.../document`` downloads it,
``.../summary`` shows it as a readable page and ``.../summary.pdf`` as a PDF.
Scope ``privacy:admin``: the answers hold the person's whole data.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response
from fastapi.responses import HTMLResponse, JSONResponse
from kontor_contracts.events.common import Email
from kontor_servicekit.apitypes import Instant
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_orders.api.privacy_summary import export_summary_html, export_summary_pdf
from kontor_orders.application.privacy import (
    GatheredExport,
    PrivacyDesk,
    gathered_export,
    request_privacy,
    set_up_desk,
)
from kontor_orders.context import Context
from kontor_orders.domain.privacy import PrivacyRequest, plain

router = APIRouter(tags=["privacy"], dependencies=[Depends(require_scope("privacy:admin"))])

RequestId = Annotated[str, Path(min_length=1, max_length=64)]


def _set_up_desk(ctx: Context) -> PrivacyDesk:
    return set_up_desk(ctx.privacy)


#: The privacy desk; 503 when the service has none (its transactor runs the request).
Desk = Annotated[PrivacyDesk, Depends(_set_up_desk)]


class PrivacyRequestIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"kind": "export", "email": "anna@example.de"}]},
    )
    kind: Literal["export", "erasure"] = Field(
        description="export: a copy of the person's data (Art. 15/20 DSGVO); erasure: "
        "delete or anonymise it everywhere, keeping what tax law requires (Art. 17)"
    )
    email: Email = Field(description="The customer's e-mail address")


class ErasedItemOut(BaseModel):
    what: str
    count: int
    why: str | None = None
    until: str | None = Field(default=None, description="Kept until (date)")


class ServiceAnswerOut(BaseModel):
    answered_at: Instant
    deleted: list[ErasedItemOut] | None = None
    anonymised: list[ErasedItemOut] | None = None
    retained: list[ErasedItemOut] | None = None
    blob_ref: str | None = Field(
        default=None, description="A part too large for an event: the blob it was stored in"
    )
    blob_size: int | None = Field(default=None, description="The stored part's bytes")
    blob_sha256: str | None = Field(default=None, description="The stored part's SHA-256")
    problem: str | None = Field(
        default=None,
        description="Why the stored part is not in the document: missing, or changed "
        "(its size or SHA-256 is not what the answer said)",
    )


class PrivacyRequestOut(BaseModel):
    id: str
    kind: Literal["export", "erasure"]
    status: Literal["pending", "complete", "timed_out"] = Field(
        description="pending; complete (every expected service answered); timed_out "
        "(answer_by passed and the services in missing have not answered; a late answer "
        "still completes it)"
    )
    answer_by: Instant | None = Field(
        default=None, description="When a service that has not answered counts as silent"
    )
    subject_id: str = Field(description="The person's pseudonymous id, the same in every service")
    requested_at: Instant
    completed_at: Instant | None
    expected: list[str]
    missing: list[str] = Field(description="Expected services that have not answered yet")
    services: dict[str, ServiceAnswerOut] = Field(description="Each service's answer")
    document: dict[str, Any] | None = Field(
        description="An export's document: each service's part (so far); null for an erasure"
    )
    problems: dict[str, str] = Field(
        default_factory=dict,
        description="Per service, why its stored part could not be read or verified "
        "(the document is not complete while any is listed)",
    )

    @classmethod
    def of(cls, r: PrivacyRequest, gathered: GatheredExport | None = None) -> PrivacyRequestOut:
        gathered = gathered or GatheredExport(r)
        return cls(
            id=r.id,
            kind=r.kind,
            status="timed_out"
            if r.status == "timed_out"
            else "complete"
            if r.status == "complete"
            else "pending",
            answer_by=r.answer_by,
            subject_id=r.subject_id,
            requested_at=r.requested_at,
            completed_at=r.completed_at,
            expected=list(r.expected),
            missing=r.missing,
            services={
                service: ServiceAnswerOut.model_validate(
                    {k: v for k, v in answer.items() if k != "part"}
                    | {"problem": gathered.problems.get(service)}
                )
                for service, answer in sorted(r.answers.items())
            },
            document=plain(gathered.document()) if r.kind == "export" else None,
            problems=gathered.problems,
        )


@router.post(
    "/privacy/requests",
    status_code=202,
    responses=problem_responses(401, 403, 409, 422, 503),
    summary="Ask every service to export or erase a customer's data",
    description="202: the request is on its way (DataExportRequested / ErasureRequested); "
    "`GET /privacy/requests/{id}` shows the answers. An erasure destroys the customer's "
    "event key at once (every sealed copy on every topic becomes unreadable). 503: the "
    "privacy master key is not configured.",
    response_model=PrivacyRequestOut,
)
async def post_privacy_request(ctx: Context, body: PrivacyRequestIn, desk: Desk) -> Response:
    return await ctx.answers.answer(
        desk.transactor,
        lambda transactor: request_privacy(
            desk, kind=body.kind, email=body.email, clock=ctx.clock, transactor=transactor
        ),
        present=PrivacyRequestOut.of,
        status_code=202,
        location=lambda out: f"/privacy/requests/{out.id}",
    )


@router.get(
    "/privacy/requests/{request_id}",
    responses=problem_responses(401, 403, 404, 503),
    summary="A privacy request: pending or complete, each service's answer, the document",
)
async def get_privacy_request(ctx: Context, request_id: RequestId) -> PrivacyRequestOut:
    gathered = await gathered_export(ctx.privacy, request_id)
    return PrivacyRequestOut.of(gathered.request, gathered)


@router.get(
    "/privacy/requests/{request_id}/document",
    responses={
        200: {"content": {"application/json": {}}, "description": "The export as a file"},
        **problem_responses(401, 403, 404, 409, 503),
    },
    summary="An export's document as a JSON download (409 for an erasure)",
    response_class=JSONResponse,
)
async def get_privacy_document(ctx: Context, request_id: RequestId) -> JSONResponse:
    gathered = await gathered_export(ctx.privacy, request_id)
    request = gathered.request
    return JSONResponse(
        plain(gathered.document()),
        headers={"Content-Disposition": f'attachment; filename="{request.id}.json"'},
    )


@router.get(
    "/privacy/requests/{request_id}/summary",
    responses={
        200: {"content": {"text/html": {}}, "description": "The export as one readable page"},
        **problem_responses(401, 403, 404, 409, 503),
    },
    summary="An export's document as a readable HTML page (409 for an erasure)",
    response_class=HTMLResponse,
)
async def get_privacy_summary(ctx: Context, request_id: RequestId) -> HTMLResponse:
    gathered = await gathered_export(ctx.privacy, request_id)
    request = gathered.request
    return HTMLResponse(
        export_summary_html(plain(gathered.document()), request.status),
        headers={"Content-Disposition": f'inline; filename="{request.id}.html"'},
    )


@router.get(
    "/privacy/requests/{request_id}/summary.pdf",
    responses={
        200: {
            "content": {"application/pdf": {}},
            "description": "The export's readable summary as a PDF/A-3b",
        },
        **problem_responses(401, 403, 404, 409, 503),
    },
    summary="An export's readable summary as a PDF (409 for an erasure)",
    response_class=Response,
)
async def get_privacy_summary_pdf(ctx: Context, request_id: RequestId) -> Response:
    gathered = await gathered_export(ctx.privacy, request_id)
    request = gathered.request
    document = plain(gathered.document())  # 409 for an erasure, before any rendering
    pdf = await asyncio.to_thread(export_summary_pdf, document, request.status)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{request.id}.pdf"'},
    )
