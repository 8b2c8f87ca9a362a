from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from invoices.models import BusinessProfile, Invoice, InvoiceSequence
from invoices.numbering import take_next_number
from invoices.services import InvoiceStateError, finalize_invoice
from tests.factories import make_draft

pytestmark = pytest.mark.django_db


def test_it_numbers_invoices_in_order_at_finalize():
    first, second = make_draft(), make_draft()
    assert first.number == ""
    assert finalize_invoice(invoice=second).number == "INV-0001"
    assert finalize_invoice(invoice=first).number == "INV-0002"


def test_it_keeps_one_sequence_per_prefix():
    finalize_invoice(invoice=make_draft())
    profile = BusinessProfile.load()
    profile.number_prefix = "ACME-"
    profile.save()
    assert finalize_invoice(invoice=make_draft()).number == "ACME-0001"
    assert InvoiceSequence.objects.get(prefix="INV-").last_value == 1


def test_it_gives_the_number_back_when_finalize_fails():
    finalize_invoice(invoice=make_draft())
    with pytest.raises(InvoiceStateError):
        finalize_invoice(invoice=make_draft(lines=0))
    assert finalize_invoice(invoice=make_draft()).number == "INV-0002"


def test_it_refuses_to_finalize_twice():
    invoice = finalize_invoice(invoice=make_draft())
    with pytest.raises(InvoiceStateError, match="Only a draft"):
        finalize_invoice(invoice=invoice)
    assert InvoiceSequence.objects.get(prefix="INV-").last_value == 1


@pytest.mark.django_db(transaction=True)
def test_it_must_run_inside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the finalize transaction"):
        take_next_number("INV-")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_finalizes_get_distinct_gapless_numbers():
    if connection.vendor != "postgresql":
        pytest.skip("row locks across threads need PostgreSQL (CI runs this on PostgreSQL)")
    drafts = [make_draft() for _ in range(12)]
    barrier = threading.Barrier(len(drafts))
    errors: list[BaseException] = []

    def finalize(invoice: Invoice) -> None:
        try:
            barrier.wait()
            finalize_invoice(invoice=invoice)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=finalize, args=(d,)) for d in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-{n:04d}" for n in range(1, 13)]
