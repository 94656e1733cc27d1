"""How problems appear in each service's OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from kontor_servicekit.errors.problems import PROBLEM_JSON, phrase


class FieldError(BaseModel):
    """One invalid field of a request."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int] = Field(description='Where the error is, e.g. ["body", "lines", 0]')
    pointer: str | None = Field(
        default=None, description="JSON pointer into the request body, e.g. /lines/0/quantity"
    )
    parameter: str | None = Field(
        default=None, description="Name of the query/path/header/cookie parameter"
    )
    msg: str
    type: str


class ProblemDetail(BaseModel):
    """RFC 9457 problem details, served as ``application/problem+json``."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


_PROBLEM_REF = "#/components/schemas/ProblemDetail"


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries documenting problem+json bodies for ``statuses``.

    The schema is referenced, not embedded; :func:`install_error_handlers` makes sure
    the ``ProblemDetail`` component exists in the app's OpenAPI document.
    """
    return {
        status: {
            "description": phrase(status),
            "content": {PROBLEM_JSON: {"schema": {"$ref": _PROBLEM_REF}}},
        }
        for status in statuses
    }


def patch_openapi(app: FastAPI) -> None:
    """Add the ProblemDetail schema and document FastAPI's default 422 as problem+json."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem_schema = ProblemDetail.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for name, sub_schema in problem_schema.pop("$defs", {}).items():
            components.setdefault(name, sub_schema)
        components.setdefault("ProblemDetail", problem_schema)
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if not isinstance(operation, dict):
                    continue
                if "requestBody" in operation:
                    # A body that is not decodable at all (bad UTF-8, broken multipart)
                    # is a 400 from the framework before validation runs, and so is
                    # JSON that is not RFC 8259 JSON (StrictJsonMiddleware).
                    operation.setdefault("responses", {}).setdefault(
                        "400",
                        {
                            "description": "Bad Request: the body could not be parsed, or is "
                            "not standard JSON (RFC 8259) of valid Unicode (NaN, Infinity, "
                            "1e400, a lone surrogate such as \\ud800)",
                            "content": {PROBLEM_JSON: {"schema": {"$ref": _PROBLEM_REF}}},
                        },
                    )
                response = operation.get("responses", {}).get("422")
                if response is None:
                    continue
                content = response.get("content", {})
                json_content = content.get("application/json", {})
                if json_content.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                    response["content"] = {PROBLEM_JSON: {"schema": {"$ref": _PROBLEM_REF}}}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
