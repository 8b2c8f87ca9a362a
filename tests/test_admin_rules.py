"""The Django admin never changes money or history: even a superuser is refused."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from invoices.models import (
    Invoice,
    InvoiceActivity,
    InvoiceFlag,
    InvoiceLine,
    InvoiceReminder,
    InvoiceSequence,
    Payment,
    StripeEvent,
)
from invoices.services import record_offline_payment
from tests.factories import StaffFactory, make_draft, make_open

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client() -> Client:
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))
    return client


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def delete_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_delete", args=[obj.pk])


def snapshot(invoice: Invoice) -> tuple:
    invoice.refresh_from_db()
    lines = list(invoice.lines.values_list("description", "unit_amount", "quantity", "amount"))
    payments = list(invoice.payments.values_list("amount", "method", "status"))
    return (
        invoice.status,
        invoice.number,
        invoice.currency,
        invoice.total,
        invoice.amount_due,
        invoice.memo,
        lines,
        payments,
    )


def hostile_change_post(invoice: Invoice) -> dict[str, str]:
    """What the admin form for this invoice would post, with the currency and prices changed."""
    data = {
        "customer": str(invoice.customer_id),
        "currency": "EUR",
        "issue_date": invoice.issue_date.isoformat(),
        "terms": invoice.terms,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else "",
        "memo": "changed",
        "footer": "",
        "status": "draft",
        "total": "1",
        "amount_due": "1",
    }
    for prefix, related in (
        ("lines", invoice.lines.all()),
        ("payments", invoice.payments.all()),
        ("activities", invoice.activities.all()),
    ):
        rows = list(related)
        data |= {
            f"{prefix}-TOTAL_FORMS": str(len(rows)),
            f"{prefix}-INITIAL_FORMS": str(len(rows)),
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
        for index, row in enumerate(rows):
            data[f"{prefix}-{index}-id"] = str(row.pk)
            data[f"{prefix}-{index}-invoice"] = str(invoice.pk)
            if prefix == "lines":
                data[f"{prefix}-{index}-unit_amount"] = "1"
                data[f"{prefix}-{index}-description"] = "changed"
                data[f"{prefix}-{index}-DELETE"] = "on"
    return data


def paid_invoice() -> tuple[Invoice, Payment]:
    invoice = make_open()
    payment = record_offline_payment(
        invoice=invoice,
        amount=invoice.amount_due,
        method=Payment.Method.BANK_TRANSFER,
        received_on=date(2026, 1, 5),
        reference="wire 1",
    )
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    return invoice, payment


@pytest.mark.parametrize("state", ["open", "paid"])
def test_it_refuses_to_change_a_finalized_invoice(superuser_client, state) -> None:
    invoice = make_open() if state == "open" else paid_invoice()[0]
    before = snapshot(invoice)
    response = superuser_client.post(change_url(invoice), hostile_change_post(invoice))
    assert response.status_code == 403
    assert snapshot(invoice) == before
    # The page itself still opens, read-only: no form fields, no save button.
    page = superuser_client.get(change_url(invoice)).content.decode()
    assert 'name="currency"' not in page
    assert 'name="_save"' not in page
    assert invoice.number in page


def test_it_refuses_to_delete_a_numbered_invoice(superuser_client) -> None:
    invoice = make_open()
    assert superuser_client.get(delete_url(invoice)).status_code == 403
    assert superuser_client.post(delete_url(invoice), {"post": "yes"}).status_code == 403
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_it_offers_no_bulk_delete(superuser_client) -> None:
    invoice = make_open()
    changelist = reverse("admin:invoices_invoice_changelist")
    page = superuser_client.get(changelist).content.decode()
    assert "delete_selected" not in page
    response = superuser_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [invoice.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    assert Invoice.objects.filter(pk=invoice.pk).exists()
    assert InvoiceSequence.objects.get().last_value == 1


def test_it_lets_a_draft_keep_its_words_but_not_its_money(superuser_client) -> None:
    draft = make_draft()
    total, currency = draft.total, draft.currency
    response = superuser_client.post(change_url(draft), hostile_change_post(draft))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.memo == "changed"
    assert (draft.total, draft.currency, draft.status) == (total, currency, Invoice.Status.DRAFT)
    assert draft.lines.count() == 2
    assert not draft.lines.filter(description="changed").exists()


def test_it_refuses_to_change_or_delete_a_payment(superuser_client) -> None:
    invoice, payment = paid_invoice()
    before = snapshot(invoice)
    data = {"amount": "1", "status": "failed", "method": "cash", "currency": "EUR"}
    assert superuser_client.post(change_url(payment), data).status_code == 403
    assert superuser_client.post(delete_url(payment), {"post": "yes"}).status_code == 403
    assert superuser_client.get(reverse("admin:invoices_payment_add")).status_code == 403
    assert snapshot(invoice) == before


def test_it_keeps_history_read_only(superuser_client) -> None:
    invoice, _ = paid_invoice()
    records = [
        invoice.activities.first(),
        InvoiceFlag.objects.create(invoice=invoice, kind="overpaid", message="look"),
        StripeEvent.objects.create(event_id="evt_1", type="charge.refunded", payload={}),
        InvoiceReminder.objects.create(invoice=invoice, offset_days=3),
        InvoiceSequence.objects.get(),
        InvoiceLine.objects.filter(invoice=invoice).first(),
    ]
    for record in records:
        model = type(record)
        count = model.objects.count()
        try:
            url = change_url(record)
        except Exception:  # lines have no admin of their own: only the read-only inline
            assert model is InvoiceLine
            continue
        assert superuser_client.get(url).status_code == 200, model  # viewable
        assert superuser_client.post(url, {"message": "x", "last_value": "0"}).status_code == 403
        assert superuser_client.post(delete_url(record), {"post": "yes"}).status_code == 403
        assert model.objects.count() == count
    assert InvoiceActivity.objects.filter(message="x").count() == 0
    assert InvoiceSequence.objects.get().last_value == 1


def test_it_keeps_search_lists_and_the_send_action(
    superuser_client, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    invoice = make_open()
    changelist = reverse("admin:invoices_invoice_changelist")
    page = superuser_client.get(changelist, {"q": invoice.customer.name})
    assert page.status_code == 200
    assert invoice.number in page.content.decode()
    for model in ("payment", "invoiceactivity", "invoiceflag", "stripeevent", "invoicereminder"):
        listing = reverse(f"admin:invoices_{model}_changelist")
        assert superuser_client.get(listing).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(
            changelist, {"action": "send_selected", "_selected_action": [invoice.pk]}
        )
    assert response.status_code == 302
    assert [message.to for message in mailoutbox] == [[invoice.customer.email]]
