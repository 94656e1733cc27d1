"""The ticket: one concern of one customer, on one or more channels, until it is closed.

States (as Zammad names them):

- ``new``: nobody of ours has answered yet;
- ``open``: an agent works on it;
- ``pending`` (pending reminder): waiting until ``pending_until``, then open again;
- ``pending_close``: closed at ``pending_until`` unless the customer writes first;
- ``solved``: the agent considers it resolved (``TicketResolved``); a customer
  message opens it again;
- ``closed``: done; a later customer message starts a follow-up ticket;
- ``merged``: folded into another ticket (terminal; its messages moved there).

Every change is a :class:`TimelineEntry`; the timeline is the ticket's history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from kontor_servicekit.aggregate import RecordsEvents
from kontor_servicekit.domain_errors import IllegalTransition, Invalid

from kontor_support.domain.events import (
    SlaWasBreached,
    TicketWasChanged,
    TicketWasOpened,
    TicketWasSolved,
)
from kontor_support.domain.sla import BusinessCalendar, SlaPolicy, next_deadline

__all__ = [
    "LANGUAGES",
    "OPEN_STATES",
    "PRIORITIES",
    "STATES",
    "Priority",
    "State",
    "Ticket",
    "TimelineEntry",
    "ticket_number",
]

State = Literal["new", "open", "pending", "pending_close", "solved", "closed", "merged"]
Priority = Literal["low", "normal", "high", "urgent"]
STATES: tuple[str, ...] = get_args(State)
PRIORITIES: tuple[str, ...] = get_args(Priority)

#: States in which the ticket still waits for someone of ours (or for its date).
OPEN_STATES: frozenset[str] = frozenset({"new", "open", "pending", "pending_close"})

# Which state may follow which when an agent sets it; ``merged`` only through merge().
_ALLOWED: dict[str, frozenset[str]] = {
    "new": frozenset({"open", "pending", "pending_close", "solved", "closed"}),
    "open": frozenset({"pending", "pending_close", "solved", "closed"}),
    "pending": frozenset({"open", "pending_close", "solved", "closed"}),
    "pending_close": frozenset({"open", "pending", "solved", "closed"}),
    "solved": frozenset({"open", "closed"}),
    "closed": frozenset(),
    "merged": frozenset(),
}

#: The ``status`` of the v1 contract events (whose names predate these states).
CONTRACT_STATUS: dict[str, str] = {
    "new": "open",
    "open": "in_progress",
    "pending": "waiting_for_customer",
    "pending_close": "waiting_for_customer",
    "solved": "resolved",
    "closed": "closed",
    "merged": "closed",
}


#: The languages support answers in, and how much each source of a ticket's language
#: weighs (ADR 0122).
LANGUAGES: tuple[str, ...] = ("de", "en")
_LANGUAGE_WEIGHT = {"order": 1, "customer": 2, "agent": 3}


def ticket_number(year: int, sequence: int) -> str:
    """``T-2026-000123``: the year it was opened and a gap-free sequence of that year."""
    return f"T-{year}-{sequence:06d}"


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    actor: str  # "customer", "system", an agent's name
    kind: str  # opened, message, reply, note, state, priority, assignee, group, tags, ...
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Ticket(RecordsEvents):
    id: str
    subject: str
    channel: str
    created_at: datetime
    status: State = "new"
    priority: Priority = "normal"
    assignee: str | None = None
    group: str | None = None
    tags: tuple[str, ...] = ()
    customer_email: str | None = None  # lower case
    customer_name: str | None = None
    customer_phone: str | None = None  # normalised (+49...)
    order_numbers: tuple[str, ...] = ()
    invoice_numbers: tuple[str, ...] = ()
    return_ids: tuple[str, ...] = ()
    order_id: str | None = None  # the first linked order's id, where known
    category: str | None = None  # complaint, return, payment, delivery, product, ...
    source: str | None = None  # "ComplaintFiled:<id>": the event that opened it
    external_conversation_id: str | None = None
    follow_up_of: str | None = None
    merged_into: str | None = None
    pending_until: datetime | None = None
    first_response_at: datetime | None = None
    waiting_since: datetime | None = None  # a customer message waits for our answer
    solved_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None
    last_mail_id: str | None = None  # the newest Message-ID on the thread
    thread_ids: tuple[str, ...] = ()  # Message-IDs of the thread, oldest first (capped)
    automated_last: bool = False  # the newest customer message was an auto-reply
    breached: tuple[str, ...] = ()  # SLA targets already escalated
    sla_target: str | None = None  # the next SLA target to meet (first_response, ...)
    sla_due_at: datetime | None = None  # when it breaches (business hours)
    sla_planned: bool = False  # False: changed since the SLA sweeper planned it
    language: str | None = None  # the customer's, de or en (ADR 0122); None: not known
    language_source: str | None = None  # who said so: agent, customer or order
    anonymised_at: datetime | None = None  # kept past its retention: nobody named any more
    timeline: list[TimelineEntry] = field(default_factory=list)
    version: int = 0

    @classmethod
    def open(
        cls,
        *,
        id: str,
        subject: str,
        channel: str,
        at: datetime,
        actor: str = "customer",
        priority: Priority = "normal",
        **details: Any,
    ) -> Ticket:
        ticket = cls(
            id=id,
            subject=subject.strip()[:300] or "(no subject)",
            channel=channel,
            created_at=at,
            updated_at=at,
            priority=priority,
            **details,
        )
        if actor == "customer":
            ticket.waiting_since = at
        ticket._log(at, actor, "opened", channel=channel, subject=ticket.subject)
        ticket.record(TicketWasOpened(id))
        return ticket

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    def _log(self, at: datetime, actor: str, kind: str, **detail: Any) -> None:
        self.timeline.append(TimelineEntry(at, actor, kind, detail))
        self.updated_at = at
        self.sla_planned = False

    def _refuse_if_done(self, action: str) -> None:
        if self.status in ("closed", "merged"):
            raise IllegalTransition(f"ticket {self.id}", action, self.status)

    # --- messages ---------------------------------------------------------------

    def customer_wrote(
        self, at: datetime, *, automated: bool = False, actor: str = "customer"
    ) -> None:
        """A message from the customer: a solved or pending ticket opens again (an
        auto-reply changes no state: it is kept, never answered)."""
        self._refuse_if_done("add a customer message to")
        self._log(at, actor, "message", automated=automated)
        self.automated_last = automated
        if automated:
            return
        if self.waiting_since is None:
            self.waiting_since = at
        if self.status in ("solved", "pending", "pending_close"):
            self._set_status("open", at, actor, reason="customer message")

    def agent_replied(self, at: datetime, agent: str, *, internal: bool) -> None:
        """An agent's public reply (first/next response) or internal note."""
        self._refuse_if_done("reply on")
        if internal:
            self._log(at, agent, "note")
            return
        self._log(at, agent, "reply")
        if self.first_response_at is None:
            self.first_response_at = at
        self.waiting_since = None
        if self.status == "new":
            self._set_status("open", at, agent)

    def contact_logged(self, at: datetime, agent: str, *, channel: str) -> None:
        """An outgoing contact logged by an agent (a call we made): counts as an answer."""
        self._refuse_if_done("log a contact on")
        self._log(at, agent, "contact", channel=channel)
        if self.first_response_at is None:
            self.first_response_at = at
        self.waiting_since = None
        if self.status == "new":
            self._set_status("open", at, agent)

    def remember_mail(self, message_ids: Iterable[str]) -> None:
        for mid in message_ids:
            if mid and mid not in self.thread_ids:
                self.thread_ids = (*self.thread_ids, mid)[-50:]
                self.last_mail_id = mid

    def link(
        self,
        *,
        order_numbers: Iterable[str] = (),
        invoice_numbers: Iterable[str] = (),
        return_ids: Iterable[str] = (),
        at: datetime,
        actor: str = "system",
    ) -> None:
        """Link the ticket to orders, invoices and returns (each once)."""
        added: dict[str, list[str]] = {}
        for name, values in (
            ("order_numbers", order_numbers),
            ("invoice_numbers", invoice_numbers),
            ("return_ids", return_ids),
        ):
            current: tuple[str, ...] = getattr(self, name)
            new = [v for v in dict.fromkeys(values) if v not in current]
            if new:
                setattr(self, name, (*current, *new))
                added[name] = new
        if added:
            self._log(at, actor, "linked", **added)

    def note_language(
        self, language: str | None, source: str, at: datetime, *, actor: str | None = None
    ) -> bool:
        """What the customer's language is, as ``source`` says (ADR 0122): an agent's
        choice outweighs what the customer's mail or browser said, which outweighs the
        locale of their order; the newest of equal weight wins. True when it changed."""
        if language not in LANGUAGES:
            if source == "agent":
                raise Invalid("a language is de or en", field=("language",))
            return False
        if self.language_source is not None and (
            _LANGUAGE_WEIGHT[source] < _LANGUAGE_WEIGHT[self.language_source]
        ):
            return False
        before, self.language_source = self.language, source
        if language == before:
            return False
        self.language = language
        who = actor or ("customer" if source == "customer" else "system")
        self._log(at, who, "language", before=before, after=language, source=source)
        return True

    def rating_asked(self, at: datetime, *, delivery_id: str) -> None:
        """The customer was asked to rate the solved ticket (the mail is queued)."""
        self._log(at, "system", "rating_requested", delivery_id=delivery_id)

    # --- agent changes ------------------------------------------------------------

    def _set_status(self, status: str, at: datetime, actor: str, **detail: Any) -> None:
        before = self.status
        self.status = status  # type: ignore[assignment]
        if status == "solved":
            self.solved_at = at
        elif status == "closed":
            self.closed_at = at
        if status not in ("pending", "pending_close"):
            self.pending_until = None
        self._log(at, actor, "state", before=before, after=status, **detail)
        self.record(TicketWasChanged(self.id, ("status",)))
        if status == "solved":
            self.record(TicketWasSolved(self.id, at, detail.get("resolution") or "solved"))

    def change(
        self,
        at: datetime,
        actor: str,
        *,
        status: str | None = None,
        priority: str | None = None,
        assignee: str | None = None,
        group: str | None = None,
        tags: Iterable[str] | None = None,
        pending_until: datetime | None = None,
        resolution: str | None = None,
        unassign: bool = False,
        language: str | None = None,
    ) -> None:
        """An agent's change of any of the ticket's fields; each changed one is logged."""
        self._refuse_if_done("change")
        changed: list[str] = []
        if language is not None:  # logged, no TicketUpdated: no other service cares
            self.note_language(language, "agent", at, actor=actor)
        if priority is not None and priority != self.priority:
            if priority not in PRIORITIES:
                raise Invalid(f"unknown priority {priority!r}", field=("priority",))
            self._log(at, actor, "priority", before=self.priority, after=priority)
            self.priority = priority  # type: ignore[assignment]
            changed.append("priority")
        if (assignee is not None or unassign) and assignee != self.assignee:
            self._log(at, actor, "assignee", before=self.assignee, after=assignee)
            self.assignee = assignee
            changed.append("assignee")
        if group is not None and group != self.group:
            self._log(at, actor, "group", before=self.group, after=group)
            self.group = group
            changed.append("group")
        if tags is not None:
            wanted = tuple(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))
            if wanted != self.tags:
                self._log(at, actor, "tags", before=list(self.tags), after=list(wanted))
                self.tags = wanted
                changed.append("tags")
        target = status or (self.status if pending_until is not None else None)
        if target is not None:
            self._change_status(target, at, actor, pending_until, resolution)
        if changed:
            self.record(TicketWasChanged(self.id, tuple(changed)))

    def _change_status(
        self,
        status: str,
        at: datetime,
        actor: str,
        pending_until: datetime | None,
        resolution: str | None,
    ) -> None:
        if status not in STATES or status == "merged":
            raise Invalid(f"unknown state {status!r}", field=("status",))
        pending = status in ("pending", "pending_close")
        if pending and pending_until is None and status != self.status:
            raise Invalid(f"a {status} ticket needs pending_until", field=("pending_until",))
        if pending_until is not None and not pending:
            raise Invalid("pending_until is for pending states only", field=("pending_until",))
        if pending_until is not None and pending_until <= at:
            raise Invalid("pending_until must lie in the future", field=("pending_until",))
        if status == self.status:
            if pending and pending_until is not None and pending_until != self.pending_until:
                self._log(
                    at, actor, "pending_until", before=self.pending_until, after=pending_until
                )
                self.pending_until = pending_until
            return
        if status not in _ALLOWED[self.status]:
            raise IllegalTransition(f"ticket {self.id}", f"set to {status}", self.status)
        extra: dict[str, Any] = {}
        if resolution:
            extra["resolution"] = resolution
        self._set_status(status, at, actor, **extra)
        if pending:
            self.pending_until = pending_until

    def pending_is_due(self, at: datetime) -> bool:
        """A pending reminder opens again and a pending close closes once its date is past."""
        if self.status not in ("pending", "pending_close") or self.pending_until is None:
            return False
        if self.pending_until > at:
            return False
        self._set_status("open" if self.status == "pending" else "closed", at, "system")
        return True

    def merge_into(self, target: Ticket, at: datetime, actor: str) -> None:
        """Fold this ticket into ``target``: this one is ``merged``, the other keeps
        the links, tags and thread (its messages are moved by the use case)."""
        if target.id == self.id:
            raise Invalid("a ticket cannot be merged into itself", field=("target",))
        self._refuse_if_done("merge")
        target._refuse_if_done("merge into")
        before = self.status
        self.status = "merged"
        self.merged_into = target.id
        self.pending_until = None
        self._log(at, actor, "merged", into=target.id, before=before)
        self.record(TicketWasChanged(self.id, ("status",), note=f"merged into {target.id}"))
        target.link(
            order_numbers=self.order_numbers,
            invoice_numbers=self.invoice_numbers,
            return_ids=self.return_ids,
            at=at,
            actor=actor,
        )
        target.remember_mail(self.thread_ids)
        target.tags = tuple(dict.fromkeys((*target.tags, *self.tags)))
        if target.customer_email is None:
            target.customer_email = self.customer_email
            target.customer_name = target.customer_name or self.customer_name
        target._log(at, actor, "merged_from", ticket=self.id)
        if self.waiting_since and (
            target.waiting_since is None or self.waiting_since < target.waiting_since
        ):
            target.waiting_since = self.waiting_since

    # --- service levels -------------------------------------------------------------

    def plan_sla(self, policy: SlaPolicy, calendar: BusinessCalendar) -> None:
        """Set the next SLA deadline (none while pending, solved, closed or merged)."""
        self.sla_planned = True
        self.sla_target, self.sla_due_at = None, None
        if self.status not in ("new", "open"):
            return  # pending pauses the clock; solved, closed and merged stop it
        for target, due in next_deadline(
            priority=self.priority,
            created_at=self.created_at,
            first_response_at=self.first_response_at,
            waiting_since=self.waiting_since,
            policy=policy,
            calendar=calendar,
        ):
            if f"{target}@{due.isoformat()}" not in self.breached:
                self.sla_target, self.sla_due_at = target, due
                return

    def check_sla(self, at: datetime) -> bool:
        """Escalate a deadline that passed (each target of each wait once)."""
        if self.sla_due_at is None or self.sla_target is None or self.sla_due_at > at:
            return False
        key = f"{self.sla_target}@{self.sla_due_at.isoformat()}"
        if key in self.breached:
            return False
        self.breached = (*self.breached, key)
        self.record(SlaWasBreached(self.id, self.sla_target, self.sla_due_at, at))
        self._log(at, "system", "sla_breached", target=self.sla_target, due_at=self.sla_due_at)
        return True
