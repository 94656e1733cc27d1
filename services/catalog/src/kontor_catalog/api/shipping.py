"""HTTP routes of shipping methods (each change emits ShippingMethodChanged)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, status
from fastapi.responses import Response
from kontor_servicekit.apitypes import Count, Flag, MoneyAmount, QueryInt, UnitPrice
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_catalog.application.shipping import create_method, replace_method, withdraw_method
from kontor_catalog.context import Context
from kontor_catalog.domain.shipping import Rate, ShippingMethod, UnknownMethod, Zone

router = APIRouter(tags=["shipping"])

MethodPath = Annotated[str, Path(min_length=1, max_length=64, examples=["standard"])]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", examples=["DE"])]


class ZoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zone_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,31}$")
    name: str | None = Field(default=None, max_length=100)
    countries: list[Country] = Field(min_length=1, max_length=250)


class RateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zone_id: str = Field(max_length=32)
    max_weight_grams: Count | None = Field(default=None, ge=0, le=10_000_000)
    max_value: MoneyAmount | None = Field(default=None, description="Gross goods value")
    price_net: UnitPrice


class MethodBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    carrier: str | None = Field(default=None, max_length=50)
    basis: Literal["weight", "value"]
    zones: list[ZoneIn] = Field(min_length=1, max_length=50)
    rates: list[RateIn] = Field(min_length=1, max_length=500)
    free_from: MoneyAmount | None = Field(
        default=None, description="Gross goods value from which shipping is free"
    )
    currency: Literal["EUR"] = "EUR"
    vat_rate: MoneyAmount = Field(default=Decimal("0.19"), description="VAT of the net prices")
    active: Flag = True

    def method(self, method_id: str) -> ShippingMethod:
        return ShippingMethod(
            method_id=method_id,
            name=self.name,
            carrier=self.carrier,
            basis=self.basis,
            zones=tuple(Zone(z.zone_id, tuple(z.countries), z.name) for z in self.zones),
            rates=tuple(
                Rate(r.zone_id, r.price_net, r.max_weight_grams, r.max_value) for r in self.rates
            ),
            free_from=self.free_from,
            currency=self.currency,
            vat_rate=self.vat_rate,
            active=self.active,
        )


class MethodIn(MethodBody):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$", examples=["standard"])


class MethodOut(MethodBody):
    id: str
    currency: str  # type: ignore[assignment]

    @classmethod
    def of(cls, method: ShippingMethod) -> MethodOut:
        return cls(
            id=method.method_id,
            name=method.name,
            carrier=method.carrier,
            basis=method.basis,
            zones=[
                ZoneIn(zone_id=z.zone_id, name=z.name, countries=list(z.countries))
                for z in method.zones
            ],
            rates=[
                RateIn(
                    zone_id=r.zone_id,
                    max_weight_grams=r.max_weight_grams,
                    max_value=r.max_value,
                    price_net=r.price_net,
                )
                for r in method.rates
            ],
            free_from=method.free_from,
            currency=method.currency,
            vat_rate=method.vat_rate,
            active=method.active,
        )


EXAMPLE = {
    "id": "standard",
    "name": "DHL Paket",
    "carrier": "DHL",
    "basis": "weight",
    "zones": [
        {"zone_id": "de", "name": "Deutschland", "countries": ["DE"]},
        {"zone_id": "eu-1", "name": "EU Zone 1", "countries": ["AT", "BE", "FR", "NL"]},
    ],
    "rates": [
        {"zone_id": "de", "max_weight_grams": 2000, "price_net": "4.12"},
        {"zone_id": "de", "price_net": "5.88"},
        {"zone_id": "eu-1", "price_net": "12.61"},
    ],
    "free_from": "50.00",
    "currency": "EUR",
    "vat_rate": "0.19",
}
VALUE_EXAMPLE = {
    "id": "express",
    "name": "Express",
    "carrier": "DPD",
    "basis": "value",
    "zones": [{"zone_id": "de", "countries": ["DE"]}],
    "rates": [
        {"zone_id": "de", "max_value": "100.00", "price_net": "12.56"},
        {"zone_id": "de", "price_net": "8.36"},
    ],
}


@router.post(
    "/shipping-methods",
    status_code=status.HTTP_201_CREATED,
    response_model=MethodOut,
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 409, 413, 422),
    summary="Add a shipping method (emits ShippingMethodChanged)",
)
async def post_method(
    ctx: Context,
    body: Annotated[
        MethodIn,
        Body(
            openapi_examples={
                "weight": {"summary": "By weight, free from 50 EUR", "value": EXAMPLE},
                "value": {"summary": "By goods value", "value": VALUE_EXAMPLE},
            }
        ),
    ],
) -> Response:
    method = body.method(body.id)
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: create_method(transactor, method),
        present=MethodOut.of,
        status_code=status.HTTP_201_CREATED,
    )


@router.get(
    "/shipping-methods",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses=problem_responses(401, 403),
    summary="Every shipping method, withdrawn ones included (active false)",
)
async def read_methods(ctx: Context) -> list[MethodOut]:
    return [MethodOut.of(m) for m in await ctx.shipping.all()]


@router.get(
    "/shipping-methods/{method_id}",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses=problem_responses(401, 403, 404),
    summary="One shipping method",
)
async def read_method(ctx: Context, method_id: MethodPath) -> MethodOut:
    method = await ctx.shipping.one(method_id)
    if method is None:
        raise UnknownMethod(method_id)
    return MethodOut.of(method)


@router.put(
    "/shipping-methods/{method_id}",
    response_model=MethodOut,
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 404, 413, 422),
    summary="Replace a shipping method (emits ShippingMethodChanged if anything changed)",
)
async def put_method(
    ctx: Context,
    method_id: MethodPath,
    body: Annotated[
        MethodBody,
        Body(
            openapi_examples={
                "cheaper": {
                    "summary": "New prices",
                    "value": {k: v for k, v in EXAMPLE.items() if k != "id"},
                }
            }
        ),
    ],
) -> Response:
    method = body.method(method_id)
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: replace_method(transactor, method),
        present=MethodOut.of,
    )


@router.delete(
    "/shipping-methods/{method_id}",
    response_model=MethodOut,
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 404),
    summary="Withdraw a shipping method: it stays, inactive (emits ShippingMethodChanged)",
)
async def delete_method(ctx: Context, method_id: MethodPath) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: withdraw_method(transactor, method_id),
        present=MethodOut.of,
    )


class QuoteOut(BaseModel):
    method_id: str
    available: bool = Field(
        description="False: no zone for the country, beyond the table, or withdrawn"
    )
    price_net: MoneyAmount | None
    price_gross: MoneyAmount | None
    currency: str


@router.get(
    "/shipping-methods/{method_id}/quote",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses=problem_responses(401, 403, 404, 422),
    summary="What the method charges for an order to a country, by weight and goods value",
)
async def quote_method(
    ctx: Context,
    method_id: MethodPath,
    country: Annotated[str, Query(pattern=r"^[A-Z]{2}$", examples=["DE"])],
    weight_grams: Annotated[QueryInt, Query(ge=0, le=10_000_000, examples=[1500])] = 0,
    goods_value: Annotated[MoneyAmount, Query(examples=["39.90"])] = Decimal(0),
) -> QuoteOut:
    method = await ctx.shipping.one(method_id)
    if method is None:
        raise UnknownMethod(method_id)
    quote = method.price_quote(country=country, weight_grams=weight_grams, goods_value=goods_value)
    return QuoteOut(
        method_id=quote.method_id,
        available=quote.available,
        price_net=quote.net,
        price_gross=quote.gross,
        currency=quote.currency,
    )
