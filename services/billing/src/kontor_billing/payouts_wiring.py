"""What ``main.py`` wires for payouts and the accounting export: the sweeper that sends
pending card/wallet refunds to the provider (outside any transaction, ADR 0033), and
the DATEV policy from the settings."""

from __future__ import annotations

from kontor_servicekit.clock import Clock
from kontor_servicekit.service import Kit
from kontor_servicekit.sweeper import Sweeper
from kontor_servicekit.uow import MongoTransactor

from kontor_billing.application.datev import DatevPolicy
from kontor_billing.application.payouts import (
    NoRefundProvider,
    RefundProvider,
    execute_provider_refunds,
)
from kontor_billing.domain.datev import accounts_of
from kontor_billing.settings import BillingSettings
from kontor_billing.store.unit_of_work import MongoBillingUnitOfWork


def refund_provider(settings: BillingSettings) -> RefundProvider:
    if not settings.refund_provider_url or settings.refund_provider_secret is None:
        return NoRefundProvider()
    from kontor_billing.providers.stripe_refunds import StripeRefunds

    return StripeRefunds(
        settings.refund_provider_url, settings.refund_provider_secret.get_secret_value()
    )


def provider_refund_sweeper(kit: Kit, settings: BillingSettings, clock: Clock) -> Sweeper:
    provider = refund_provider(settings)
    transactor = MongoTransactor(kit.store, MongoBillingUnitOfWork)
    sweeper = Sweeper(
        "provider-refunds",
        lambda: execute_provider_refunds(transactor, provider, clock=clock),
        interval_s=settings.refund_sweep_interval_s,
    )
    return sweeper.runs_with(kit.definition)


def datev_policy(settings: BillingSettings) -> DatevPolicy:
    return DatevPolicy(
        chart=settings.datev_chart,
        accounts=accounts_of(settings.datev_chart, settings.datev_accounts),
        advisor=settings.datev_advisor,
        client=settings.datev_client,
        locked=settings.datev_lock,
        fiscal_year_start_month=settings.datev_fiscal_year_start_month,
        personal_accounts=settings.datev_party_accounts == "personal",
    )
