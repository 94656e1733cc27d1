"""HTTP routes of the CSV import and export of products.

Registered before the product routes: ``/products/export`` must not be taken for a SKU.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Response, UploadFile
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, Field

from kontor_catalog.application.csv_import import import_file
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
    failed: int = Field(description="Rows not imported (each changed nothing)")
    errors: list[RowError]


@router.post(
    "/products/import",
    dependencies=[Depends(require_scope("catalog:write"))],
    responses=problem_responses(401, 403, 413, 422),
    summary="Import products from CSV (multipart field 'file'); a report per row",
    description="Semicolon-separated, UTF-8 with or without BOM, header row; columns "
    f"{', '.join(COLUMNS)} (sku, name, price_net, vat_class required). Decimals as 19,99 "
    "or 19.99; lists with |; attributes key=value|key=value. New SKUs are created, "
    "existing ones updated (descriptive data and price; stock only via /stock). Each row "
    "is its own transaction: a bad row is reported and changes nothing. A file that "
    "cannot be read at all (encoding, header) is a 422.",
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
) -> ImportReportOut:
    report = await import_file(ctx.transactor, await file.read(), clock=ctx.clock)
    return ImportReportOut(
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        failed=report.failed_rows,
        errors=[RowError(row=e.row, column=e.column, message=e.message) for e in report.errors],
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
