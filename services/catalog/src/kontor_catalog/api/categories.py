"""HTTP routes of the category tree."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, status
from fastapi.responses import Response
from kontor_servicekit.auth import require_scope
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, ConfigDict, Field

from kontor_catalog.application.categories import AddCategory, add_category
from kontor_catalog.context import Context
from kontor_catalog.domain.category import Category

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
    def of(cls, category: Category) -> CategoryOut:
        return cls(
            id=category.id,
            name=category.name,
            name_en=category.name_en,
            parent_id=category.parent_id,
            path=list(category.path),
        )


@router.post(
    "/categories",
    status_code=status.HTTP_201_CREATED,
    response_model=CategoryOut,
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 409, 413, 422),
    summary="Add a category (under a parent, or as a root)",
)
async def post_category(
    ctx: Context,
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
) -> Response:
    command = AddCategory(body.id, body.name, name_en=body.name_en, parent_id=body.parent_id)
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: add_category(transactor, command, clock=ctx.clock),
        present=CategoryOut.of,
        status_code=status.HTTP_201_CREATED,
    )


@router.get(
    "/categories",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses=problem_responses(401, 403),
    summary="Every category with its parent and path (build the tree from parent_id)",
)
async def read_categories(ctx: Context) -> list[CategoryOut]:
    return [CategoryOut.of(category) for category in await ctx.categories.all()]


@router.get(
    "/categories/{category_id}",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses=problem_responses(401, 403, 404),
    summary="One category",
)
async def read_category(
    ctx: Context, category_id: Annotated[str, Path(max_length=64, examples=["t-shirts"])]
) -> CategoryOut:
    category = await ctx.categories.one(category_id)
    if category is None:
        raise NotFound("category", category_id, message=f"no category {category_id!r}")
    return CategoryOut.of(category)
