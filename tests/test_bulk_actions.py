"""Bulk actions on the invoice list (review, then act on each invoice on its own) and
"Send reminder now" on an invoice's page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoices.models import EmailLog, Invoice, InvoiceActivity
from invoices.services import mark_uncollectible
from portal.params import MAX_ID, parse_int
from tests.factories import make_draft, make_open, pay

REVIEW = "/invoices/bulk/"  # literal: reversing at import would load the URLconf too early
RUN = "/invoices/bulk/run/"


def review(client, action: str, *invoices: Invoice, **extra):
    return client.get(REVIEW, {"action": action, "ids": [i.pk for i in invoices], **extra})


def run(client, action: str, *invoices: Invoice, token: str = "tok-bulk-1", **extra):
    data = {"action": action, "ids": [i.pk for i in invoices], "form_token": token, **extra}
    return client.post(RUN, data, follow=True)


def processing(**fields) -> Invoice:
    invoice = make_open(**fields)
    invoice.payment_state = Invoice.PaymentState.PROCESSING
    invoice.save()
    return invoice


def queued(kind: str, invoice: Invoice) -> int:
    return EmailLog.objects.filter(kind=kind, invoice=invoice).count()


def test_it_lists_what_a_void_does_and_what_it_skips(staff_client, db):
    open_invoice = make_open()
    paid = make_open()
    pay(paid)
    draft = make_draft()
    response = review(staff_client, "void", open_invoice, paid, draft)
    assert response.status_code == 200
    text = response.text
    assert f'id="ready-{open_invoice.pk}"' in text
    assert f'id="ready-{paid.pk}"' not in text
    skipped = re.search(r'<ul id="bulk-skipped">(.*?)</ul>', text, re.S).group(1)
    assert "Payments were made on it: issue a credit note instead." in skipped
    assert reverse("invoices:new_credit_note", args=[paid.pk]) in skipped
    assert "A draft is deleted, not voided." in skipped
    assert f'<input type="hidden" name="ids" value="{open_invoice.pk}">' in text
    assert f'<input type="hidden" name="ids" value="{paid.pk}">' not in text
    # Reviewing changes nothing.
    open_invoice.refresh_from_db()
    assert open_invoice.status == Invoice.Status.OPEN


def test_it_voids_each_invoice_with_a_trail_and_leaves_the_paid_one(
    staff_client, db, django_capture_on_commit_callbacks, mailoutbox
):
    first, second, paid = make_open(), make_open(), make_open()
    pay(paid)
    with django_capture_on_commit_callbacks(execute=True):
        response = run(staff_client, "void", first, second, paid)
    assert "2 invoices voided" in response.text
    assert f"{paid}: Payments were made on it: issue a credit note instead." in response.text
    for invoice in (first, second):
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.VOID
        assert invoice.amount_owed == 0
        assert invoice.activities.filter(kind=InvoiceActivity.Kind.VOIDED).count() == 1
        assert queued("void", invoice) == 1
    paid.refresh_from_db()
    assert paid.status == Invoice.Status.PAID
    assert not paid.activities.filter(kind=InvoiceActivity.Kind.VOIDED).exists()
    assert sorted(m.to[0] for m in mailoutbox) == sorted(i.customer.email for i in (first, second))


def test_a_second_press_acts_once(staff_client, db, django_capture_on_commit_callbacks):
    invoice = make_open()
    with django_capture_on_commit_callbacks(execute=True):
        run(staff_client, "send", invoice, token="same-token")
        again = run(staff_client, "send", invoice, token="same-token")
    assert "already done by the first press" in again.text
    assert queued("invoice", invoice) == 1
    assert invoice.activities.filter(kind=InvoiceActivity.Kind.SENT).count() == 1


def test_it_sends_open_invoices_and_skips_the_rest(staff_client, db, mailoutbox):
    ready, draft, paid = make_open(), make_draft(), make_open()
    pay(paid)
    uncollectible = mark_uncollectible(invoice=make_open())
    text = review(staff_client, "send", ready, draft, paid, uncollectible).text
    assert "A draft must be finalized before it is sent." in text
    assert "It is paid: there is nothing to ask for." in text
    assert "It is marked uncollectible: it asks for nothing, so it is not sent." in text
    response = run(staff_client, "send", ready, draft, paid, uncollectible)
    assert "1 invoice sent" in response.text
    assert queued("invoice", ready) == 1
    assert [queued("invoice", i) for i in (draft, paid, uncollectible)] == [0, 0, 0]
    ready.refresh_from_db()
    assert ready.sent_at is not None


def test_it_reminds_in_bulk_but_not_while_a_debit_is_processing(
    staff_client, db, django_capture_on_commit_callbacks, mailoutbox
):
    due, debit = make_open(), processing()
    text = review(staff_client, "remind", due, debit).text
    assert "A payment is processing" in text
    with django_capture_on_commit_callbacks(execute=True):
        response = run(staff_client, "remind", due, debit)
    assert "1 invoice reminded" in response.text
    assert queued("reminder", due) == 1
    assert queued("reminder", debit) == 0
    assert [m.to for m in mailoutbox] == [[due.customer.email]]
    assert due.number in mailoutbox[0].subject


def test_it_exports_only_the_picked_invoices(staff_client, db):
    picked, other = make_open(), make_open()
    text = review(staff_client, "export", picked).text
    link = re.search(r'href="(/invoices/export\.csv\?[^"]+)"', text).group(1)
    response = staff_client.get(link.replace("&amp;", "&"))
    body = b"".join(response.streaming_content).decode()
    numbers = [row["number"] for row in csv.DictReader(io.StringIO(body))]
    assert numbers == [picked.number]
    assert other.number not in body


def test_all_on_this_page_uses_the_page_ids(staff_client, db):
    first, second = make_open(), make_open()
    response = staff_client.get(
        REVIEW,
        {"action": "void", "scope": "page", "page_ids": [first.pk, second.pk], "ids": []},
    )
    assert f'id="ready-{first.pk}"' in response.text
    assert f'id="ready-{second.pk}"' in response.text


def test_the_list_offers_the_bulk_form_without_javascript(staff_client, db):
    invoice = make_open()
    text = staff_client.get("/").text
    assert '<form method="get" action="/invoices/bulk/" id="bulk-form">' in text
    assert f'name="ids" value="{invoice.pk}" form="bulk-form"' in text
    assert f'name="page_ids" value="{invoice.pk}" form="bulk-form"' in text
    assert 'name="scope" value="page"' in text


@pytest.mark.parametrize(
    "ids", [["x"], ["²"], ["-1"], ["9" * 30], ["\u0661"], []], ids=lambda v: repr(v)[:12]
)
def test_it_refuses_bad_picks_with_a_message(staff_client, db, ids):
    make_open()
    response = staff_client.get(REVIEW, {"action": "void", "ids": ids}, follow=True)
    assert response.status_code == 200
    assert "Pick one or more invoices and an action." in response.text
    response = staff_client.post(RUN, {"action": "void", "ids": ids}, follow=True)
    assert "Pick one or more invoices and an action." in response.text
    assert not Invoice.objects.filter(status=Invoice.Status.VOID).exists()


def test_it_refuses_an_unknown_action_and_an_export_post(staff_client, db):
    invoice = make_open()
    for action in ("delete", "export"):
        response = staff_client.post(RUN, {"action": action, "ids": [invoice.pk]}, follow=True)
        assert "Pick one or more invoices and an action." in response.text
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN


def test_it_keeps_the_list_to_return_to(staff_client, db):
    invoice = make_open()
    response = run(staff_client, "void", invoice, back="?status=open&sort=-total")
    assert response.redirect_chain[-1][0] == "/?status=open&sort=-total"


def test_strangers_are_refused(stranger_client, client, db):
    invoice = make_open()
    for c in (stranger_client, client):
        assert review(c, "void", invoice).status_code in (302, 403)
        assert c.post(RUN, {"action": "void", "ids": [invoice.pk]}).status_code in (302, 403)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN


def test_the_run_is_a_post(staff_client, db):
    assert staff_client.get(RUN).status_code == 405


# -- "Send reminder now" on the invoice page ------------------------------------------


def remind(client, invoice: Invoice, token: str = "tok-remind-1"):
    url = reverse("invoices:remind", args=[invoice.pk])
    return client.post(url, {"form_token": token}, follow=True)


def test_it_sends_a_reminder_now(staff_client, db, django_capture_on_commit_callbacks, mailoutbox):
    invoice = make_open()
    page = staff_client.get(invoice.get_absolute_url()).text
    assert "Send reminder now" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = remind(staff_client, invoice)
    assert f"Reminder emailed to {invoice.customer.email}." in response.text
    activity = invoice.activities.get(kind=InvoiceActivity.Kind.REMINDER_SENT)
    assert activity.actor is not None
    email = EmailLog.objects.get(kind="reminder", invoice=invoice)
    assert email.status == EmailLog.Status.SENT
    assert [m.to for m in mailoutbox] == [[invoice.customer.email]]
    assert invoice.number in mailoutbox[0].subject
    # The schedule is left as it was.
    assert not invoice.reminders.exists()


def test_the_reminder_is_queued_inside_the_transaction(staff, db):
    from django.db import transaction

    from invoices.services import send_reminder_now

    invoice = make_open()

    def fails_after_queueing() -> None:
        with transaction.atomic():
            send_reminder_now(invoice=invoice, actor=staff)
            assert queued("reminder", invoice) == 1
            raise RuntimeError("the caller's transaction fails")

    with pytest.raises(RuntimeError):
        fails_after_queueing()
    assert queued("reminder", invoice) == 0
    assert not invoice.activities.filter(kind=InvoiceActivity.Kind.REMINDER_SENT).exists()


def test_a_double_press_sends_one_reminder(staff_client, db):
    invoice = make_open()
    remind(staff_client, invoice, token="twice")
    again = remind(staff_client, invoice, token="twice")
    assert "one reminder was sent" in again.text
    assert queued("reminder", invoice) == 1


def paid_invoice() -> Invoice:
    invoice = make_open()
    pay(invoice)
    return invoice


def void_invoice() -> Invoice:
    from invoices.services import void_invoice as void

    return void(invoice=make_open())


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (make_draft, "A draft has not been sent"),
        (paid_invoice, "A paid invoice asks for nothing."),
        (void_invoice, "A void invoice asks for nothing."),
        (lambda: mark_uncollectible(invoice=make_open()), "An uncollectible"),
        (processing, "A payment is processing"),
    ],
    ids=["draft", "paid", "void", "uncollectible", "processing"],
)
def test_it_refuses_a_reminder_it_must_not_send(staff_client, db, make, why):
    invoice = make()
    assert "Send reminder now" not in staff_client.get(invoice.get_absolute_url()).text
    response = remind(staff_client, invoice)
    assert why.split(" ", 2)[-1] in response.text
    assert queued("reminder", invoice) == 0
    assert not invoice.activities.filter(kind=InvoiceActivity.Kind.REMINDER_SENT).exists()


def test_the_reminder_asks_first_without_javascript(staff_client, db):
    invoice = make_open()
    response = staff_client.get(reverse("invoices:remind", args=[invoice.pk]))
    assert response.status_code == 200
    assert "Email a payment reminder" in response.text
    assert 'name="form_token"' in response.text
    assert queued("reminder", invoice) == 0


def test_strangers_cannot_send_reminders(stranger_client, db):
    invoice = make_open()
    response = stranger_client.post(reverse("invoices:remind", args=[invoice.pk]))
    assert response.status_code in (302, 403)
    assert queued("reminder", invoice) == 0


HOSTILE = st.one_of(
    st.sampled_from(
        ["", "0", "-1", "²", "\u0663", "9" * 40, "1e9", "NaN", "1,2", "<b>x</b>", "' OR 1=1 --"]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=20).filter(lambda s: "\x00" not in s),
)
FIELDS = st.fixed_dictionaries(
    {
        "action": st.one_of(st.sampled_from(["send", "remind", "export", "void"]), HOSTILE),
        "ids": st.lists(HOSTILE, max_size=5),
        "page_ids": st.lists(HOSTILE, max_size=5),
        "scope": st.one_of(st.sampled_from(["page", "picked"]), HOSTILE),
        "back": HOSTILE,
    }
)


def picked_values(fields: dict) -> list[str]:
    return [*fields["ids"], *fields["page_ids"]]


@given(fields=FIELDS)
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_hostile_picks_never_fail_and_change_nothing(staff_client, db, fields):
    invoice = Invoice.objects.first() or make_open()
    before = Invoice.objects.values_list("pk", "status", "sent_at").order_by("pk")
    snapshot = list(before)
    response = staff_client.get(REVIEW, fields)
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response["Location"].startswith("/")
        assert "\n" not in response["Location"]
    assert list(before) == snapshot
    # A POST of hostile values never fails, and changes nothing unless it names the invoice.
    posted = staff_client.post(RUN, fields)
    assert posted.status_code == 302
    named = invoice.pk in {parse_int(v, minimum=1, maximum=MAX_ID) for v in picked_values(fields)}
    if not named:
        assert list(before) == snapshot
