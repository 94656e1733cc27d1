"""HTTP routes of the category tree."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request, status
from kontor_servicekit.auth import require_scope
from kontor_servicekit.clock import utc_now
from kontor_servicekit.errors import Conflict, NotFound, UnprocessableEntity, problem_responses
from kontor_servicekit.store import Transaction
from pydantic import BaseModel, ConfigDict, Field

from kontor_catalog.store.categories import (
    CategoryTaken,
    UnknownCategory,
    add_category,
    get_category,
    list_categories,
)

router = APIRouter(tags=["categories"])

CATEGORY_ID = r"^[a-z0-9][a-z0-9\-]{0,63}$"


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=CATEGORY_ID, description="Slug, e.g. t-shirts")
    name: str = Field(min_length=1, max_length=100, description="German name")
    name_en: str | None = Field(default=None, min_length=1, max_length=100)
    parent_id: str | None = Field(default=None, pattern=CATEGORY_ID)


class CategoryOut(BaseModel):
    id: str
    name: str
    name_en: str | None
    parent_id: str | None
    path: list[str] = Field(description="Ancestor ids from the root down")

    @classmethod
    def of(cls, doc: dict[str, Any]) -> CategoryOut:
        return cls(
            id=doc["_id"],
            name=doc["name"],
            name_en=doc.get("name_en"),
            parent_id=doc.get("parent_id"),
            path=doc["path"],
        )


@router.post(
    "/categories",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 409, 413, 422),
    summary="Add a category (under a parent, or as a root)",
)
async def post_category(
    request: Request,
    body: Annotated[
        CategoryIn,
        Body(
            openapi_examples={
                "root": {"summary": "A root", "value": {"id": "bekleidung", "name": "Bekleidung"}},
                "child": {
                    "summary": "Below a parent",
                    "value": {
                        "id": "t-shirts",
                        "name": "T-Shirts",
                        "name_en": "T-shirts",
                        "parent_id": "bekleidung",
                    },
                },
            }
        ),
    ],
) -> CategoryOut:
    async def work(tx: Transaction) -> dict[str, Any]:
        return await add_category(
            tx,
            category_id=body.id,
            name=body.name,
            name_en=body.name_en,
            parent_id=body.parent_id,
            now=utc_now(),
        )

    try:
        doc = await request.app.state.kit.store.transaction(work)
    except CategoryTaken as exc:
        raise Conflict(detail=str(exc)) from exc
    except UnknownCategory as exc:
        raise UnprocessableEntity(
            detail=str(exc),
            errors=[{"loc": ["body", "parent_id"], "msg": str(exc), "type": "value_error"}],
        ) from exc
    return CategoryOut.of(doc)


@router.get(
    "/categories",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses=problem_responses(401, 403),
    summary="Every category with its parent and path (build the tree from parent_id)",
)
async def read_categories(request: Request) -> list[CategoryOut]:
    return [CategoryOut.of(doc) for doc in await list_categories(request.app.state.kit.store.db)]


@router.get(
    "/categories/{category_id}",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses=problem_responses(401, 403, 404),
    summary="One category",
)
async def read_category(
    request: Request, category_id: Annotated[str, Path(max_length=64, examples=["t-shirts"])]
) -> CategoryOut:
    doc = await get_category(request.app.state.kit.store.db, category_id)
    if doc is None:
        raise NotFound(detail=f"no category {category_id!r}")
    return CategoryOut.of(doc)
