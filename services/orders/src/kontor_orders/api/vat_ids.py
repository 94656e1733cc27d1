"""HTTP route of the VAT id confirmation: a merchant confirms a buyer's VAT id by hand."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_orders.api.orders import OrderOut
from kontor_orders.application.vat_ids import confirm_vat_id
from kontor_orders.context import Context

router = APIRouter(tags=["orders"])

OrderId = Annotated[str, Path(min_length=1, max_length=64)]


class VatIdConfirmationIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"confirmed_by": "m.mueller", "reference": "WAPIAAAAY1234567"}]
        },
    )
    confirmed_by: str = Field(min_length=1, max_length=100, description="Who checked VIES")
    reference: str | None = Field(
        default=None, max_length=100, description="The VIES consultation number, or a note"
    )


@router.post(
    "/orders/{order_id}/vat-id-confirmation",
    response_model=OrderOut,
    dependencies=[Depends(require_scope("orders:write"))],
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Record that the buyer's VAT id was confirmed in VIES (by hand)",
    description="At placement a VAT id is checked for format and check digits only; its "
    "VIES confirmation is pending until a merchant records it here. 409: the order has "
    "no VAT id. Again: the first confirmation stays.",
)
async def post_vat_id_confirmation(
    ctx: Context, order_id: OrderId, body: VatIdConfirmationIn
) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: confirm_vat_id(
            transactor,
            order_id,
            confirmed_by=body.confirmed_by,
            reference=body.reference,
            clock=ctx.clock,
        ),
        present=OrderOut.of,
    )
