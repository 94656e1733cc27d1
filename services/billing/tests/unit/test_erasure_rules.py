"""What billing shows of an erased person: the pure rules (ADR 0113, 0114)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from kontor_billing.domain.erasure import (
    counted_from,
    made_before_erasure,
    normalised_iban,
    normalised_name,
    payer_identities,
)
from kontor_billing.store.erased_buyers import payer_keys
from kontor_servicekit.privacy.keys import MasterKey, Pseudonyms

pytestmark = pytest.mark.unit

ERASED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_a_record_made_up_to_the_erasure_is_the_old_one_a_later_one_the_new() -> None:
    assert made_before_erasure(ERASED - timedelta(days=3), ERASED)
    assert made_before_erasure(ERASED, ERASED)
    assert not made_before_erasure(ERASED + timedelta(seconds=1), ERASED)


def test_a_reissue_after_the_erasure_counts_from_its_orders_first_invoice() -> None:
    first = ERASED - timedelta(days=30)
    reissued = ERASED + timedelta(days=2)  # Storno + new invoice after the erasure
    cancelled = ERASED - timedelta(days=1)
    moment = counted_from(reissued, [first, cancelled])
    assert moment == first and made_before_erasure(moment, ERASED)
    # the first document of a new order (she bought again) counts from itself
    assert counted_from(reissued, []) == reissued
    assert not made_before_erasure(counted_from(reissued, []), ERASED)


def test_payers_are_compared_as_banks_write_them() -> None:
    assert normalised_iban(" de02 1203 0000 0000 2020 51 ") == "DE02120300000000202051"
    assert normalised_iban("  ") is None and normalised_iban(None) is None
    same = {normalised_name(n) for n in ("Anna Müller", "MUELLER, ANNA", "Frau Anna  Müller")}
    assert same == {"anna mueller"}
    assert normalised_name("Anna Muster") != normalised_name("Anna Müller")
    # one word says too little to tell whose a booking is
    assert normalised_name("Müller") is None and normalised_name("Frau Müller") is None
    assert payer_identities("DE02 1203", "Anna Müller") == ["iban:DE021203", "name:anna mueller"]
    assert payer_identities(None, "Müller") == []


def test_payer_keys_are_keyed_pseudonyms_not_the_iban_or_name() -> None:
    pseudonyms = Pseudonyms.of(MasterKey.generate())
    keys = payer_keys(pseudonyms.subject_id, [("DE02120300000000202051", "Anna Muster")])
    assert len(keys) == 2 and all(k.startswith("payer_") and len(k) == 38 for k in keys)
    assert not any("DE02" in k or "anna" in k.lower() for k in keys)
    # the same payer written otherwise gives the same keys; another key gives others
    again = payer_keys(pseudonyms.subject_id, [("de02 1203 0000 0000 2020 51", "MUSTER, Anna")])
    assert again == keys
    other = Pseudonyms.of(MasterKey.generate())
    elsewhere = payer_keys(other.subject_id, [("DE02120300000000202051", None)])
    assert set(elsewhere) & set(keys) == set()
