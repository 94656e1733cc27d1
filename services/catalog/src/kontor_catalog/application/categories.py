"""Use case of the category tree: adding a category (a root or below a parent)."""

from __future__ import annotations

from dataclasses import dataclass

from kontor_servicekit.clock import Clock
from kontor_servicekit.uow import Transactor

from kontor_catalog.application.unit_of_work import CatalogUnitOfWork
from kontor_catalog.domain.category import Category, UnknownParent


@dataclass(frozen=True)
class AddCategory:
    category_id: str
    name: str
    name_en: str | None = None
    parent_id: str | None = None


async def add_category(
    transactor: Transactor[CatalogUnitOfWork], command: AddCategory, *, clock: Clock
) -> Category:
    """Add a category; an unknown parent is refused, so is an id taken already."""

    async def work(uow: CatalogUnitOfWork) -> Category:
        parent = None
        if command.parent_id is not None:
            parent = await uow.categories.get(command.parent_id)
            if parent is None:
                raise UnknownParent(command.parent_id)
        category = Category.create(
            category_id=command.category_id,
            name=command.name,
            name_en=command.name_en,
            parent=parent,
            now=clock(),
        )
        await uow.categories.add(category)
        return category

    return await transactor.run(work)
