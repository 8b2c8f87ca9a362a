from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from invoices.models import Invoice, StripeEvent
from tests import stripe_events as se
from tests.factories import make_open

pytestmark = pytest.mark.django_db

URL = "/webhook-events/"


def failed_event(client: Client, monkeypatch) -> tuple[Invoice, StripeEvent]:
    from invoices.payments import webhooks

    invoice = make_open()
    invoice.payments.create(
        amount=invoice.total, currency="USD", stripe_payment_intent_id="pi_page"
    )
    body = se.event("payment_intent.succeeded", se.intent(invoice, intent_id="pi_page"))

    def broken(obj, event_id):
        raise RuntimeError("mail server exploded")

    monkeypatch.setitem(webhooks.HANDLERS, "payment_intent.succeeded", broken)
    assert se.deliver(client, body).status_code == 500
    monkeypatch.undo()
    return invoice, StripeEvent.objects.get()


def test_it_lists_events_with_their_outcome_for_staff(staff_client, client, monkeypatch):
    _invoice, stored = failed_event(client, monkeypatch)
    response = staff_client.get(URL)
    assert response.status_code == 200
    assert stored.event_id in response.text
    assert "mail server exploded" in response.text
    assert "Process again" in response.text
    assert stored.event_id in staff_client.get(URL, {"status": "failed"}).text
    assert stored.event_id not in staff_client.get(URL, {"status": "processed"}).text


def test_a_foreign_event_is_listed_as_ignored_with_the_reason(staff_client, client):
    invoice = make_open()
    foreign = se.intent(invoice, intent_id="pi_foreign", metadata={"invoice_id": str(invoice.pk)})
    assert se.deliver(client, se.event("payment_intent.succeeded", foreign)).status_code == 200
    stored = StripeEvent.objects.get()
    assert stored.status == StripeEvent.Status.IGNORED
    page = staff_client.get(URL, {"status": "ignored"}).text
    assert stored.event_id in page
    assert "no portal stamp" in page


def test_it_refuses_strangers_and_anonymous_visitors(stranger_client, client):
    assert stranger_client.get(URL).status_code == 403
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_staff_can_process_a_failed_event_again(staff_client, client, monkeypatch):
    invoice, stored = failed_event(client, monkeypatch)
    response = staff_client.post(f"{URL}{stored.pk}/reprocess/")
    assert response.status_code == 302
    stored.refresh_from_db()
    assert stored.status == StripeEvent.Status.PROCESSED
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_reprocess_refuses_an_event_that_did_not_fail(staff_client, client):
    invoice = make_open()
    se.deliver(client, se.event("payment_intent.succeeded", se.intent(invoice, intent_id="pi_ok")))
    stored = StripeEvent.objects.get()
    staff_client.post(f"{URL}{stored.pk}/reprocess/")
    stored.refresh_from_db()
    assert stored.attempts == 1


def test_reprocess_needs_post_and_csrf(staff):
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(staff)
    assert guarded.post(f"{URL}1/reprocess/").status_code == 403
    assert guarded.get(f"{URL}1/reprocess/").status_code == 405


def test_the_system_check_warns_about_workers_without_redis(settings, capsys):
    settings.WEB_CONCURRENCY = 3
    settings.REDIS_URL = ""
    call_command("check")
    assert "invoices.W001" in capsys.readouterr().err


def test_the_admin_sends_selected_invoices(staff, mailoutbox, django_capture_on_commit_callbacks):
    staff.is_superuser = True
    staff.save()
    admin = Client()
    admin.force_login(staff)
    invoice = make_open()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/admin/invoices/invoice/",
            {"action": "send_selected", "_selected_action": [invoice.pk]},
        )
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [[invoice.customer.email]]
    invoice.refresh_from_db()
    assert invoice.sent_at is not None
