"""Macros (text modules) in German and English, filled for a ticket."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, Field

from kontor_support.api.chats import Reader
from kontor_support.application.macros import filled_macro
from kontor_support.context import Context
from kontor_support.domain.macros import MACROS, placeholders_in

router = APIRouter(tags=["macros"])

Language = Literal["de", "en"]


class MacroOut(BaseModel):
    id: str
    language: str
    title: str
    body: str
    placeholders: list[str] = Field(description="What is still to fill in the body")


@router.get(
    "/macros",
    responses=problem_responses(401, 403, 422),
    summary="The macros, in one language or both, with their placeholders",
)
async def list_macros(
    _: Reader, language: Annotated[Language | None, Query()] = None
) -> list[MacroOut]:
    return [
        MacroOut(
            id=m.id,
            language=m.language,
            title=m.title,
            body=m.body,
            placeholders=placeholders_in(m.body),
        )
        for m in MACROS
        if language is None or m.language == language
    ]


@router.get(
    "/tickets/{ticket_id}/macros/{macro_id}",
    responses=problem_responses(401, 403, 404, 422),
    summary="A macro filled for the ticket (customer name, order, tracking, deadline)",
    description="What support does not know stays a placeholder (listed): a reply that "
    "still holds one is refused with 422.",
)
async def macro_for_ticket(
    ctx: Context,
    _: Reader,
    ticket_id: Annotated[str, Path(min_length=1, max_length=32)],
    macro_id: Annotated[str, Path(min_length=1, max_length=64)],
    language: Annotated[Language, Query()] = "de",
) -> MacroOut:
    view = await ctx.tickets.view(ticket_id)
    if view is None:
        raise NotFound("ticket", ticket_id)
    found = filled_macro(view, macro_id, language, return_instructions=ctx.return_instructions)
    if found is None:
        raise NotFound("macro", f"{macro_id} ({language})")
    macro, body, left = found
    return MacroOut(
        id=macro.id, language=macro.language, title=macro.title, body=body, placeholders=left
    )
