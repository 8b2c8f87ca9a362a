from __future__ import annotations

import pytest
from django.db import connection


@pytest.mark.django_db
def test_it_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_it_answers_503_when_the_database_does_not(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise ConnectionError("database is down")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503


def test_it_rejects_post(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_it_reports_the_age_of_the_oldest_email_not_yet_sent(client):
    from datetime import date, timedelta

    import time_machine

    from invoices.models import EmailLog
    from invoices.services import record_offline_payment
    from tests.factories import make_open

    assert client.get("/healthz/queue").content == b"oldest_pending_seconds=0 pending=0 failed=0"
    invoice = make_open()
    record_offline_payment(
        invoice=invoice, amount=invoice.amount_due, method="cash", received_on=date.today()
    )
    email = EmailLog.objects.get()  # queued; the test's transaction never commits it to a send
    with time_machine.travel(email.created_at + timedelta(minutes=3)):
        response = client.get("/healthz/queue")
    assert response.status_code == 200
    assert response.content == b"oldest_pending_seconds=180 pending=1 failed=0"
