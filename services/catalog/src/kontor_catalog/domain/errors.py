"""The catalog's refusals, as members of the kit's domain error family.

``kontor_servicekit.domain_errors`` maps each kind once: a broken rule of the
assortment is :class:`ProductError` (422 with the field's path), a clash with what is
stored a ``Conflict`` (409), an unknown product ``NotFound`` (404).
"""

from __future__ import annotations

from kontor_servicekit.domain_errors import Conflict, Invalid, NotFound


def field_path(dotted: str) -> tuple[str | int, ...]:
    """``"zones.1.countries"`` -> ``("zones", 1, "countries")``, as pydantic says it."""
    return tuple(int(part) if part.isdigit() else part for part in dotted.split("."))


class ProductError(Invalid, ValueError):
    """A product that would break a rule of the assortment; ``field`` is the path (422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field_path(field))


class SkuTaken(Conflict):
    def __init__(self, sku: str) -> None:
        super().__init__(f"a product with SKU {sku!r} exists already")
        self.sku = sku


class GtinTaken(Conflict):
    def __init__(self, gtin: str) -> None:
        super().__init__(f"another product has GTIN {gtin!r}")
        self.gtin = gtin


class UnknownProduct(NotFound):
    def __init__(self, sku: str) -> None:
        super().__init__("product", sku, message=f"no product with SKU {sku!r}")
        self.sku = sku


class ParentHoldsNoStock(Conflict):
    """A product with variants is not a thing on a shelf: stock is kept (and orders are
    placed) per variant, e.g. the T-shirt in red and size M, never the "T-shirt" itself."""

    def __init__(self, sku: str, variants: list[str]) -> None:
        shown = ", ".join(variants[:5]) + (", ..." if len(variants) > 5 else "")
        super().__init__(
            f"{sku!r} has variants ({shown}): stock is kept per variant",
            details={"variants": variants},
        )
        self.sku = sku


class ParentHasStock(Conflict):
    """A product that holds stock cannot become a parent: its pieces would be stranded."""

    def __init__(self, sku: str, on_hand: int) -> None:
        super().__init__(
            f"{sku!r} has {on_hand} piece(s) on hand: book them out (an inventory count of 0) "
            "before it gets variants",
            details={"on_hand": on_hand},
        )
        self.sku = sku
