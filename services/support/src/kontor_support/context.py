"""Support's container: what its routes are built with (see ``main.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from kontor_servicekit.blobs import BlobStore
from kontor_servicekit.clock import Clock
from kontor_servicekit.context import context_dependency
from kontor_servicekit.idempotency import Answers
from kontor_servicekit.ratelimit import RateLimiter
from kontor_servicekit.uow import Transactor

from kontor_support.application.ratings import RatingLinks
from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.channels.chat import ChatChannel
from kontor_support.store.queries import (
    ProductQueries,
    RatingQueries,
    SupportQueries,
    TicketQueries,
)


@dataclass
class SupportContext:
    transactor: Transactor[SupportUnitOfWork]
    queries: SupportQueries
    clock: Clock
    tickets: TicketQueries
    answers: Answers
    blobs: BlobStore  # attachments (GridFS bucket "attachments"); pass to inbound.receive
    mail_domain: str  # the domain of our mails' Message-IDs
    chat: ChatChannel  # the chat sockets of this replica and the token key
    chat_token_ttl_s: int
    chat_limiter: RateLimiter  # POST /chats per client address
    products: ProductQueries  # product advice
    ratings: RatingQueries  # customer satisfaction figures
    return_instructions: str = ""  # the macros' {{return_instructions}}
    contact_webhook_secret: bytes | None = None  # POST /webhooks/contacts; None: refused
    rating_links: RatingLinks | None = None  # None: no rating mails, the pages answer 503
    rating_mail: bool = True  # False: no new rating mails (the links sent still work)
    chat_attachment_max_bytes: int = 5 * 1024 * 1024  # POST /chats/{id}/attachments


Context = Annotated[SupportContext, Depends(context_dependency(SupportContext))]
