"""Bank statements in memory (the unit tests' database)."""

from __future__ import annotations

from kontor_servicekit.fakes import InMemoryTable

from kontor_billing.domain.bank_statements import (
    BankAccount,
    BankStatement,
    BankTransaction,
    StatementLine,
)
from kontor_billing.domain.receivables import Receivable
from kontor_billing.domain.reconciliation import (
    OpenItem,
    names_match,
    references_in,
    refers_to,
)


class InMemoryBankStatementRepository:
    def __init__(
        self, statements: InMemoryTable[BankStatement], accounts: InMemoryTable[BankAccount]
    ) -> None:
        self.statements = statements
        self.accounts = accounts

    async def get(self, statement_id: str) -> BankStatement | None:
        return self.statements.get(statement_id)

    async def add(self, statement: BankStatement) -> None:
        self.statements.insert(statement)

    async def account(self, iban: str) -> BankAccount | None:
        return self.accounts.get(iban)

    async def save_account(self, account: BankAccount) -> None:
        self.accounts.put(account)


class InMemoryBankTransactionRepository:
    def __init__(self, table: InMemoryTable[BankTransaction]) -> None:
        self.table = table

    async def get(self, transaction_id: str) -> BankTransaction | None:
        return self.table.get(transaction_id)

    async def known(self, transaction_ids: list[str]) -> dict[str, str]:
        found = (self.table.get(i) for i in transaction_ids)
        return {t.id: t.status for t in found if t is not None}

    async def add(self, transaction: BankTransaction) -> None:
        self.table.insert(transaction)

    async def save(self, transaction: BankTransaction) -> None:
        self.table.put(transaction)

    async def customers_paying_from(self, iban: str) -> frozenset[str]:
        matched = self.table.where(
            lambda t: t.status == "matched" and t.line.counterparty_iban == iban
        )
        return frozenset(
            a.customer_email for t in matched for a in t.allocations if a.customer_email
        )


class InMemoryOpenItemFinder:
    """The Mongo finder's criteria over the receivables table."""

    def __init__(self, receivables: InMemoryTable[Receivable]) -> None:
        self.receivables = receivables

    async def candidates(
        self, lines: list[StatementLine], payer_emails: frozenset[str]
    ) -> list[OpenItem]:
        items = [OpenItem.of(r) for r in self.receivables]
        return [i for i in items if any(_fits(line, i, payer_emails) for line in lines)]


def _fits(line: StatementLine, item: OpenItem, payer_emails: frozenset[str]) -> bool:
    if any(refers_to(ref, item) for ref in references_in(line.match_text)):
        return True
    if line.direction != "credit" or item.open_amount == 0:
        return False
    return (
        (item.currency == line.currency and item.open_amount == line.amount)
        or names_match(line.counterparty_name, item.customer_name)
        or item.customer_email in payer_emails
    )
