"""The one family of errors a use case or an aggregate raises when it refuses a command.

Pure (standard library only): domain code raises these, and the kit maps each kind
once to an HTTP problem (``kontor_servicekit.errors``) and, in a consumer, to a
dead letter. Routes never catch them.

=====================  ======  ==============================================
error                  HTTP    when
=====================  ======  ==============================================
:class:`NotFound`      404     the thing the command is about does not exist
:class:`Conflict`      409     the command clashes with what is stored
:class:`IllegalTransition` 409 the thing's state does not allow the action
                               (``current_state`` in the body)
:class:`Invalid`       422     input breaks a rule; field paths say where
:class:`Unavailable`   503     transient: retry after ``retry_after_s``
:class:`RateLimited`   429     too many requests: retry after ``retry_after_s``
=====================  ======  ==============================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "Conflict",
    "DomainError",
    "FieldProblem",
    "IllegalTransition",
    "Invalid",
    "NotFound",
    "RateLimited",
    "Unavailable",
]

Location = Literal["body", "query", "path", "header"]


class DomainError(Exception):
    """A business rule refused a command. ``details`` become extension members.

    A subclass may set ``title`` (the problem's title, e.g. "Withdrawal period
    ended"); without one the title is the standard name of the status.
    """

    title: str | None = None

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class NotFound(DomainError):
    """There is no ``kind`` with the key ``key`` (``no order 'o-1'``)."""

    def __init__(self, kind: str, key: str, *, message: str | None = None) -> None:
        super().__init__(message or f"no {kind} {key!r}")
        self.kind = kind
        self.key = key


class Conflict(DomainError):
    """The command clashes with what is stored (a duplicate SKU, a taken id)."""


class IllegalTransition(Conflict):
    """``action`` is not allowed while ``subject`` is in ``current_state``.

    The message names the thing it is about: ``cannot withdraw from order o-1:
    it is cancelled``, never a generic sentence made of the action's name.
    """

    def __init__(
        self,
        subject: str,
        action: str,
        current_state: str,
        *,
        message: str | None = None,
    ) -> None:
        super().__init__(
            message or f"cannot {action} {subject}: it is {current_state}",
            details={"current_state": current_state},
        )
        self.subject = subject
        self.action = action
        self.current_state = current_state


@dataclass(frozen=True)
class FieldProblem:
    """One invalid input: ``loc`` is the path inside ``location`` (``("lines", 0, "sku")``)."""

    loc: tuple[str | int, ...]
    msg: str
    type: str = "value_error"
    location: Location = "body"


class Invalid(DomainError):
    """Input that breaks a rule. Give one ``field`` path, or several ``problems``."""

    def __init__(
        self,
        message: str,
        *,
        field: Sequence[str | int] | None = None,
        problems: Sequence[FieldProblem] = (),
        type_: str = "value_error",
        location: Location = "body",
    ) -> None:
        super().__init__(message)
        found = list(problems)
        if field is not None:
            found.insert(0, FieldProblem(tuple(field), message, type_, location))
        self.problems: tuple[FieldProblem, ...] = tuple(found)

    @property
    def field(self) -> tuple[str | int, ...] | None:
        """The path of the first problem, if any."""
        return self.problems[0].loc if self.problems else None


class Unavailable(DomainError):
    """Transient: the command may succeed when retried after ``retry_after_s``."""

    def __init__(self, message: str, *, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RateLimited(DomainError):
    """The caller sent too many requests; it may try again after ``retry_after_s``."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
