"""The Django admin never changes money or history: even a superuser is refused."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from invoices.models import (
    AccountActivity,
    AccountCode,
    AutopayCharge,
    BusinessProfile,
    CatalogItem,
    GroupAllocation,
    Invoice,
    InvoiceActivity,
    InvoiceFlag,
    InvoiceLine,
    InvoiceReminder,
    InvoiceSequence,
    Payment,
    PaymentGroup,
    RecurringLine,
    RecurringRun,
    RecurringTemplate,
    SavedMethodActivity,
    SavedPaymentMethod,
    StripeEvent,
    TaxRate,
)
from invoices.services import record_offline_payment
from tests.factories import StaffFactory, make_draft, make_open

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    return StaffFactory(is_superuser=True)


@pytest.fixture
def superuser_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
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


# -- every model the admin shows ----------------------------------------------------

# The portal's models the admin may write, and what: everything else registered is
# read-only. A model registered later is held to that until it is listed here.
EDITABLE = {
    Customer: "contact details (the Stripe id, account token and history stay read-only)",
    BusinessProfile: "the business's own details (never deleted)",
    Invoice: "a draft's words (tested above); a numbered invoice is read-only",
}
# A token (and its digest), the nonce a code is made from, any secret. A quote's
# content_digest is not one: it proves what the customer accepted.
SECRET_NAME = re.compile(r"token|nonce|secret|password", re.IGNORECASE)


def registered() -> list[tuple[type, admin.ModelAdmin]]:
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in ("invoices", "customers")
    ]


def shown_names(request, model_admin, obj=None) -> list[str]:
    """Every field name the admin shows or searches, its inlines' included."""
    names = [
        *map(str, model_admin.get_fields(request, obj)),
        *map(str, model_admin.get_list_display(request)),
        *map(str, model_admin.get_search_fields(request)),
    ]
    for inline_class in model_admin.inlines:
        inline = inline_class(model_admin.model, admin.site)
        names += [str(name) for name in inline.get_fields(request, obj)]
    return names


def test_every_registered_model_is_read_only_unless_listed(superuser) -> None:
    request = RequestFactory().get("/admin/")
    request.user = superuser
    models = {model for model, _ in registered()}
    for model in (SavedPaymentMethod, AutopayCharge, PaymentGroup, RecurringTemplate, TaxRate):
        assert model in models, f"{model.__name__} is not in the admin"
    for model, model_admin in registered():
        for inline_class in model_admin.inlines:
            inline = inline_class(model, admin.site)
            assert not inline.has_add_permission(request, None), inline_class
            assert not inline.has_change_permission(request, None), inline_class
            assert not inline.has_delete_permission(request, None), inline_class
        if model in EDITABLE:
            continue
        assert not model_admin.has_add_permission(request), model
        assert not model_admin.has_change_permission(request), model
        assert not model_admin.has_delete_permission(request), model
        assert not model_admin.get_actions(request), model  # no bulk delete, no bulk anything


def test_no_admin_shows_or_searches_a_secret(superuser) -> None:
    request = RequestFactory().get("/admin/")
    request.user = superuser
    for model, model_admin in registered():
        leaked = [name for name in shown_names(request, model_admin) if SECRET_NAME.search(name)]
        assert not leaked, f"{model.__name__} shows {leaked}"


@pytest.fixture
def new_records() -> list:
    """One of each model added with saved methods, autopay, account pages, combined
    payments, recurring templates and the catalog."""
    invoice = make_open()
    customer = invoice.customer
    method = SavedPaymentMethod.objects.create(
        customer=customer,
        stripe_payment_method_id="pm_admin_1",
        stripe_customer_id="cus_admin_1",
        method_type="card",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2030,
    )
    group = PaymentGroup.objects.create(customer=customer, currency="USD", amount=invoice.total)
    rate = TaxRate.objects.create(name="VAT 20%", percent=Decimal(20))
    template = RecurringTemplate.objects.create(customer=customer, start_date=date(2026, 1, 1))
    RecurringLine.objects.create(template=template, description="Retainer", unit_amount=500)
    return [
        method,
        SavedMethodActivity.objects.create(customer=customer, kind="saved", method_label="Visa"),
        AutopayCharge.objects.create(
            invoice=invoice, saved_method=method, stripe_payment_method_id="pm_admin_1"
        ),
        group,
        GroupAllocation.objects.create(
            group=group, invoice=invoice, position=0, amount=invoice.total
        ),
        AccountActivity.objects.create(customer=customer, kind="link_issued"),
        AccountCode.objects.create(
            customer=customer, expires_at=timezone.now() + timedelta(minutes=10)
        ),
        template,
        RecurringRun.objects.create(template=template, period=date(2026, 1, 1), invoice=invoice),
        rate,
        CatalogItem.objects.create(name="Audit", unit_amount=900, currency="USD", tax_rate=rate),
    ]


def test_the_new_records_are_listed_and_viewed_but_never_written(
    superuser_client, new_records
) -> None:
    for record in new_records:
        model = type(record)
        if model not in admin.site._registry:
            continue  # shown inline on its parent (allocations, lines, runs)
        before = list(model.objects.values())
        listing = reverse(f"admin:invoices_{model._meta.model_name}_changelist")
        assert superuser_client.get(listing, {"q": "a"}).status_code == 200, model
        assert superuser_client.get(change_url(record)).status_code == 200, model
        hostile = {"autopay": "", "amount": "1", "percent": "99", "status": "succeeded"}
        assert superuser_client.post(change_url(record), hostile).status_code == 403, model
        assert superuser_client.post(delete_url(record), {"post": "yes"}).status_code == 403
        add = reverse(f"admin:invoices_{model._meta.model_name}_add")
        assert superuser_client.get(add).status_code == 403, model
        assert list(model.objects.values()) == before, model
    assert SavedPaymentMethod.objects.get().autopay is True


def test_no_page_shows_a_token_or_the_nonce_of_a_code(superuser_client, new_records) -> None:
    code = next(record for record in new_records if isinstance(record, AccountCode))
    invoice = Invoice.objects.get()
    customer = Customer.objects.get(pk=invoice.customer_id)
    secrets_ = [code.nonce, code.code, invoice.pay_token, customer.account_token]
    assert all(secrets_)
    for record in (code, invoice, customer):
        response = superuser_client.get(change_url(record))
        assert response.status_code == 200
        page = response.content.decode()
        assert customer.email in page or str(record) in page  # the record's own page
        for secret in secrets_:
            assert secret not in page, type(record)


def test_a_recurring_templates_lines_and_runs_show_inline(superuser_client, new_records):
    template = next(r for r in new_records if isinstance(r, RecurringTemplate))
    page = superuser_client.get(change_url(template)).content.decode()
    assert "Retainer" in page
    assert "Jan. 1, 2026" in page or "2026-01-01" in page
    assert 'name="lines-0-unit_amount"' not in page  # read-only, not a form field
