"""BSON codecs: money is Decimal in Python and Decimal128 in MongoDB."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bson.codec_options import TypeCodec
from bson.decimal128 import Decimal128


class DecimalCodec(TypeCodec):
    """Stores :class:`~decimal.Decimal` as Decimal128 and reads it back as Decimal."""

    python_type = Decimal
    bson_type = Decimal128

    def transform_python(self, value: Any) -> Decimal128:
        return Decimal128(value)

    def transform_bson(self, value: Any) -> Decimal:
        return value.to_decimal()  # type: ignore[no-any-return]


DECIMAL_CODEC = DecimalCodec()
