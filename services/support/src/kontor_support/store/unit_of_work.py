"""Support's unit of work over one MongoDB transaction.

Each repository is declared with its protocol's type, so mypy checks that the Mongo
repositories implement them (and the unit of work is a ``SupportUnitOfWork``).
"""

from __future__ import annotations

from kontor_servicekit.store import Transaction
from kontor_servicekit.uow import MongoUnitOfWork

from kontor_support.application.unit_of_work import (
    ChatRepository,
    CustomerRepository,
    DeliveryRepository,
    MessageRepository,
    OrderContextRepository,
    ProductRepository,
    RatingRepository,
    TicketRepository,
)
from kontor_support.store.chats import MongoChatRepository
from kontor_support.store.context import MongoCustomerRepository, MongoOrderContextRepository
from kontor_support.store.deliveries import MongoDeliveryRepository
from kontor_support.store.products import MongoProductRepository
from kontor_support.store.ratings import MongoRatingRepository
from kontor_support.store.tickets import MongoMessageRepository, MongoTicketRepository


class MongoSupportUnitOfWork(MongoUnitOfWork):
    def __init__(self, tx: Transaction) -> None:
        super().__init__(tx)
        self.deliveries: DeliveryRepository = MongoDeliveryRepository(tx)
        self.chats: ChatRepository = MongoChatRepository(tx)
        self.products: ProductRepository = MongoProductRepository(tx)
        self.ratings: RatingRepository = MongoRatingRepository(tx)
        self.tickets: TicketRepository = MongoTicketRepository(tx)
        self.messages: MessageRepository = MongoMessageRepository(tx)
        self.customers: CustomerRepository = MongoCustomerRepository(tx)
        self.order_context: OrderContextRepository = MongoOrderContextRepository(tx)
