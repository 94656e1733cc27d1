"""HTTP routes of complaints (Reklamationen)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Response, UploadFile, status
from kontor_servicekit.apitypes import Instant, LineNo, MoneyAmount, Page, PageOut, QueryInt
from kontor_servicekit.auth import require_scope
from kontor_servicekit.blobs import IMAGE_RESPONSES, blob_response, read_image_upload
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_orders.application.complaints import (
    FileComplaint,
    ResolveComplaint,
    file_complaint,
    resolve_complaint,
)
from kontor_orders.context import Context
from kontor_orders.domain.complaint import Complaint, UnknownComplaint

router = APIRouter(tags=["complaints"])

ComplaintId = Annotated[str, Path(min_length=1, max_length=64)]


class ComplaintIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "order_id": "0b6f1c1e-4c1a-4f7e-9d0a-2f3c1e2d4b5a",
                    "line_no": 1,
                    "description": "Naht am Ärmel nach dem ersten Waschen aufgegangen",
                    "photo_ids": ["6747a1c2e4b0a1b2c3d4e5f6"],
                    "kind": "defect",
                    "desired_remedy": "replacement",
                }
            ]
        },
    )
    order_id: str = Field(min_length=1, max_length=64)
    line_no: LineNo
    description: str = Field(min_length=1, max_length=4000)
    photo_ids: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=list,
        max_length=20,
        description="Ids of photos uploaded first with POST /complaint-photos",
    )
    kind: Literal["defect", "transport_damage", "wrong_item", "missing_item"] | None = None
    desired_remedy: Literal["repair", "replacement", "refund", "price_reduction"] | None = None


class ResolutionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"remedy": "replacement", "carrier": "DHL", "tracking_number": "JJD0099"},
                {"remedy": "refund", "amount": "11.90", "note": "Kulanz"},
            ]
        },
    )
    remedy: Literal["replacement", "refund"]
    note: str | None = Field(default=None, max_length=2000)
    amount: MoneyAmount | None = Field(
        default=None, description="Refund (gross); default one piece of the line"
    )
    carrier: str | None = Field(default=None, min_length=1, max_length=40)
    tracking_number: str | None = Field(default=None, min_length=1, max_length=64)


class ResolutionOut(BaseModel):
    remedy: str
    at: Instant
    note: str | None
    refund_amount: MoneyAmount | None
    carrier: str | None
    tracking_number: str | None


class ComplaintOut(BaseModel):
    id: str
    order_id: str
    order_number: str
    line_no: int
    sku: str
    description: str
    photo_ids: list[str]
    kind: str | None
    desired_remedy: str | None
    status: str = Field(
        description="open, replacement_pending (the catalog books the replacement out) or resolved"
    )
    filed_at: Instant
    resolution: ResolutionOut | None
    replacement_refused: str | None = Field(
        default=None, description="Why the last replacement could not ship (no stock)"
    )

    @classmethod
    def of(cls, c: Complaint) -> ComplaintOut:
        r = c.resolution
        return cls(
            id=c.id,
            order_id=c.order_id,
            order_number=c.order_number,
            line_no=c.line_no,
            sku=c.sku,
            description=c.description,
            photo_ids=c.photo_ids,
            kind=c.kind,
            desired_remedy=c.desired_remedy,
            status=c.status,
            replacement_refused=c.replacement_refused,
            filed_at=c.filed_at,
            resolution=None
            if r is None
            else ResolutionOut(
                remedy=r.remedy,
                at=r.at,
                note=r.note,
                refund_amount=r.refund_amount,
                carrier=r.carrier,
                tracking_number=r.tracking_number,
            ),
        )


@router.post(
    "/complaints",
    status_code=status.HTTP_201_CREATED,
    response_model=ComplaintOut,
    dependencies=[Depends(require_scope("orders:write"))],
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="File a complaint about a delivered article (emits ComplaintFiled)",
)
async def post_complaint(ctx: Context, body: ComplaintIn) -> Response:
    command = FileComplaint(
        order_id=body.order_id,
        line_no=body.line_no,
        description=body.description,
        photo_ids=body.photo_ids,
        kind=body.kind,
        desired_remedy=body.desired_remedy,
    )
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: file_complaint(transactor, command, ctx.clock),
        present=ComplaintOut.of,
        status_code=status.HTTP_201_CREATED,
    )


class ComplaintPage(PageOut[ComplaintOut]):
    """A page of complaints (the kit's one list shape)."""


@router.get(
    "/complaints",
    dependencies=[Depends(require_scope("orders:read"))],
    responses=problem_responses(401, 403, 422),
    summary="Complaints, newest first; status=open for unresolved ones",
)
async def list_complaints(
    ctx: Context,
    status_: Annotated[
        Literal["open", "replacement_pending", "resolved"] | None, Query(alias="status")
    ] = None,
    page: Page = 1,
    page_size: Annotated[QueryInt, Query(ge=1, le=200)] = 50,
) -> ComplaintPage:
    found = await ctx.complaints.page(status_, page=page, page_size=page_size)
    items = [ComplaintOut.of(c) for c in found.items]
    return ComplaintPage(items=items, page=page, page_size=page_size, total=found.total)


@router.get(
    "/complaints/{complaint_id}",
    dependencies=[Depends(require_scope("orders:read"))],
    responses=problem_responses(401, 403, 404),
    summary="One complaint",
)
async def read_complaint(ctx: Context, complaint_id: ComplaintId) -> ComplaintOut:
    c = await ctx.complaints.get(complaint_id)
    if c is None:
        raise UnknownComplaint(complaint_id)
    return ComplaintOut.of(c)


@router.post(
    "/complaints/{complaint_id}/resolution",
    response_model=ComplaintOut,
    dependencies=[Depends(require_scope("orders:write"))],
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Resolve by replacement shipment or refund (a refund emits ReturnCompleted)",
    description="A replacement is a shipment: it answers `replacement_pending` and emits "
    "ReplacementRequested; the catalog reserves and books the piece out of stock and the "
    "complaint becomes `resolved`, or `open` again with `replacement_refused` when there "
    "is no stock. A refund is capped by what is still refundable on the line and the "
    "order (409 with `remaining`).",
)
async def post_resolution(ctx: Context, complaint_id: ComplaintId, body: ResolutionIn) -> Response:
    command = ResolveComplaint(
        remedy=body.remedy,
        note=body.note,
        amount=body.amount,
        carrier=body.carrier,
        tracking_number=body.tracking_number,
    )
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: resolve_complaint(transactor, complaint_id, command, ctx.clock),
        present=ComplaintOut.of,
    )


class PhotoOut(BaseModel):
    id: str = Field(examples=["6747a1c2e4b0a1b2c3d4e5f6"])
    content_type: str = Field(examples=["image/jpeg"])
    size: int = Field(description="Bytes")
    url: str = Field(examples=["/complaint-photos/6747a1c2e4b0a1b2c3d4e5f6"])


@router.post(
    "/complaint-photos",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_scope("orders:write"))],
    responses=problem_responses(401, 403, 413, 422),
    summary="Upload a photo of a defect (multipart field 'file'; JPEG, PNG or WebP, 5 MiB)",
    description="The type is read from the file's first bytes, not from its name. Refer to "
    "the returned id in `photo_ids` when filing the complaint.",
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "examples": {
                        "photo": {
                            "summary": "A photo of the torn seam",
                            "value": {"file": "(JPEG)"},
                        }
                    }
                }
            }
        }
    },
)
async def post_photo(
    ctx: Context,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most 5 MiB")],
) -> PhotoOut:
    upload = await read_image_upload(file, what="a photo", default_name="photo")
    photo_id = await ctx.photos.put(upload, now=ctx.clock())
    return PhotoOut(
        id=photo_id,
        content_type=upload.content_type,
        size=upload.size,
        url=f"/complaint-photos/{photo_id}",
    )


@router.get(
    "/complaint-photos/{photo_id}",
    dependencies=[Depends(require_scope("orders:read"))],
    responses={**IMAGE_RESPONSES, **problem_responses(401, 403, 404)},
    response_class=Response,
    summary="A complaint photo's bytes with their content type",
)
async def read_photo(
    ctx: Context,
    photo_id: Annotated[str, Path(max_length=64, examples=["6747a1c2e4b0a1b2c3d4e5f6"])],
) -> Response:
    photo = await ctx.photos.get(photo_id)
    if photo is None:
        raise NotFound("photo", photo_id)
    return blob_response(photo)
