"""What support's use cases need of the database.

Implemented over MongoDB in ``store/unit_of_work.py`` and in memory in
``store/memory.py``. Each repository the features need is a Protocol here and an
attribute of :class:`SupportUnitOfWork`.
"""

from __future__ import annotations

from typing import Protocol

from kontor_servicekit.uow import UnitOfWork


class SupportUnitOfWork(UnitOfWork, Protocol):
    """The repositories of support (none yet) plus the outbox and sequences."""
