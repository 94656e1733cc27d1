"""HTTP routes of an invoice's documents: the Factur-X PDF/A-3 and the CII XML."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from kontor_servicekit.auth import BILLING_TAX_SCOPE as TAX_SCOPE
from kontor_servicekit.auth import Principal, require_scope
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import problem_responses

from kontor_billing.api.erasure import any_of, forbid_unless_tax
from kontor_billing.application.documents import StoredFile
from kontor_billing.context import Context

router = APIRouter(tags=["invoices"])

Number = Annotated[str, Path(min_length=1, max_length=32)]
Reader = Annotated[Principal, Depends(require_scope("billing:read"))]


async def _may_see(ctx: Context, principal: Reader, number: str, kind: str = "invoice") -> None:
    """A document of an erased buyer prints their name and address: billing:tax only."""
    if principal.has_scope(TAX_SCOPE):
        return
    view = await ctx.invoices.by_number(number, kind=kind)
    if view is None:
        raise NotFound("correction" if kind == "correction" else "invoice", number)
    invoice = view.invoice
    await forbid_unless_tax(
        principal, lambda: any_of(ctx.erased.restricted([invoice])), f"The document {number}"
    )


def _served(file: StoredFile) -> Response:
    return Response(
        content=file.data,
        media_type=file.media_type,
        headers={
            "Content-Disposition": f'inline; filename="{file.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=86400",
        },
    )


def _content(media_type: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {media_type: {}}}}


@router.get(
    "/invoices/{number}/pdf",
    responses={**_content("application/pdf"), **problem_responses(401, 403, 404, 409)},
    response_class=Response,
    summary="The invoice as ZUGFeRD / Factur-X PDF/A-3 (EN 16931 XML embedded)",
)
async def invoice_pdf(ctx: Context, principal: Reader, number: Number) -> Response:
    await _may_see(ctx, principal, number)
    return _served(await ctx.documents.file(number, "pdf"))


@router.get(
    "/invoices/{number}/xml",
    responses={**_content("application/xml"), **problem_responses(401, 403, 404, 409)},
    response_class=Response,
    summary="The invoice as EN 16931 CII XML (XRechnung when the buyer has a Leitweg-ID)",
)
async def invoice_xml(ctx: Context, principal: Reader, number: Number) -> Response:
    await _may_see(ctx, principal, number)
    return _served(await ctx.documents.file(number, "xml"))


@router.get(
    "/credit-notes/{number}/pdf",
    responses={**_content("application/pdf"), **problem_responses(401, 403, 404, 409)},
    response_class=Response,
    summary="The correction (Rechnungskorrektur, type 384) as ZUGFeRD / Factur-X PDF/A-3",
)
async def credit_note_pdf(ctx: Context, principal: Reader, number: Number) -> Response:
    await _may_see(ctx, principal, number, "correction")
    return _served(await ctx.documents.file(number, "pdf", kind="correction"))


@router.get(
    "/credit-notes/{number}/xml",
    responses={**_content("application/xml"), **problem_responses(401, 403, 404, 409)},
    response_class=Response,
    summary="The correction (Rechnungskorrektur, type 384) as EN 16931 CII XML",
)
async def credit_note_xml(ctx: Context, principal: Reader, number: Number) -> Response:
    await _may_see(ctx, principal, number, "correction")
    return _served(await ctx.documents.file(number, "xml", kind="correction"))
