"""The category tree: each category knows its parent and the path of its ancestors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kontor_servicekit.domain_errors import Conflict, Invalid


class CategoryTaken(Conflict):
    def __init__(self, category_id: str) -> None:
        super().__init__(f"a category {category_id!r} exists already")
        self.category_id = category_id


class UnknownParent(Invalid):
    """The parent named for a new category does not exist (422 at ``parent_id``)."""

    def __init__(self, parent_id: str) -> None:
        super().__init__(f"no category {parent_id!r}", field=("parent_id",))
        self.parent_id = parent_id


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    name_en: str | None
    parent_id: str | None
    path: tuple[str, ...]
    """Ancestor ids from the root down."""
    created_at: datetime

    @classmethod
    def create(
        cls,
        *,
        category_id: str,
        name: str,
        name_en: str | None,
        parent: Category | None,
        now: datetime,
    ) -> Category:
        """A root (no ``parent``) or a category below ``parent``."""
        path = () if parent is None else (*parent.path, parent.id)
        return cls(
            id=category_id,
            name=name,
            name_en=name_en,
            parent_id=None if parent is None else parent.id,
            path=path,
            created_at=now,
        )
