"""HTTP routes of the CSV import and export of products.

Registered before the product routes: ``/products/export`` must not be taken for a SKU.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Response, UploadFile
from kontor_servicekit.apitypes import validated
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, Field

from kontor_catalog.api.products import ProductIn, create_command
from kontor_catalog.application.csv_import import RowInvalid, import_file
from kontor_catalog.application.products import CreateProduct
from kontor_catalog.context import Context
from kontor_catalog.domain.csv_format import COLUMNS, write_csv

router = APIRouter(tags=["import/export"])

CSV_EXAMPLE = (
    "sku;name;price_net;vat_class;stock;categories;attributes\r\n"
    "KAFFEE-1;Espresso Crème 1 kg;17,66;reduced;120;kaffee;roast=dark\r\n"
)


class RowError(BaseModel):
    row: int = Field(description="Spreadsheet row: the header is row 1")
    column: str | None = Field(description="None: the row as a whole")
    message: str


class ImportReportOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    failed: int = Field(description="Bad rows (each is listed in errors)")
    applied: bool = Field(
        description="True: the whole file was applied; false: it had bad rows and "
        "nothing of it was applied (the counts are then 0)"
    )
    errors: list[RowError]


#: Request-model locations -> CSV columns.
_COLUMNS: dict[tuple[Any, ...], str] = {
    ("price", "net"): "price_net",
    ("price", "currency"): "currency",
    ("content", "quantity"): "content_quantity",
    ("content", "unit"): "content_unit",
    ("content",): "content_quantity",
}
_NESTED = {"price_net", "currency", "content_quantity", "content_unit"}


def check_row(values: dict[str, Any]) -> CreateProduct:
    """A row's parsed cells, checked by POST /products's own request model."""
    body = {k: v for k, v in values.items() if v is not None and k not in _NESTED}
    body["price"] = {
        key: values[column]
        for key, column in (("net", "price_net"), ("currency", "currency"))
        if values.get(column) is not None
    }
    if values.get("content_quantity") is not None or values.get("content_unit") is not None:
        body["content"] = {
            "quantity": values.get("content_quantity"),
            "unit": values.get("content_unit"),
        }
    product, problems = validated(ProductIn, body)
    if product is None:
        raise RowInvalid(
            [(_COLUMNS.get(tuple(e["loc"][:2])) or str(e["loc"][0]), _message(e)) for e in problems]
        )
    return create_command(product)


def _message(error: Any) -> str:
    loc = error["loc"]
    if loc and loc[0] in {"attributes", "variant_attributes"} and len(loc) > 1:
        return f"{loc[1]!r}: {error['msg']}"
    return str(error["msg"])


@router.post(
    "/products/import",
    response_model=ImportReportOut,
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 413, 422),
    summary="Import products from CSV (multipart field 'file'); a report per row",
    description="Semicolon-separated, UTF-8 with or without BOM, header row; columns "
    f"{', '.join(COLUMNS)} (sku, name, price_net, vat_class required). Decimals as 19,99 "
    "or 19.99; lists with |; attributes key=value|key=value. New SKUs are created, "
    "existing ones updated (descriptive data and price; stock only via /stock). Every row "
    "is checked with the rules of POST /products and against the stored data; every bad "
    "row is reported (row, column, message). The file is applied whole, in one "
    "transaction, or, if any row is bad, not at all (`applied: false`). A cell the export "
    "protected against formula injection (a leading ' before = + - @ or ') is read "
    "without that '. A file that cannot be read at all (encoding, header) is a 422.",
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "examples": {
                        "csv": {"summary": "Two columns more", "value": {"file": CSV_EXAMPLE}}
                    }
                }
            }
        }
    },
)
async def post_import(
    ctx: Context, file: Annotated[UploadFile, File(description="The CSV file")]
) -> Response:
    content = await file.read()
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: import_file(transactor, content, check=check_row, clock=ctx.clock),
        present=lambda report: ImportReportOut(
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            failed=report.failed_rows,
            applied=report.applied,
            errors=[RowError(row=e.row, column=e.column, message=e.message) for e in report.errors],
        ),
    )


@router.get(
    "/products/export",
    dependencies=[Depends(require_scope("catalog:read"))],
    responses={
        200: {"content": {"text/csv": {"example": CSV_EXAMPLE}}},
        **problem_responses(401, 403),
    },
    response_class=Response,
    summary="Every product as CSV, in the import's format (stock = on hand, all warehouses)",
)
async def get_export(ctx: Context) -> Response:
    text = write_csv(await ctx.products.csv_records())
    return Response(
        content=text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="products.csv"'},
    )
