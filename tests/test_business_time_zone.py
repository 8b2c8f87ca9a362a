"""The business's time zone: set in the profile, every time shown in it and labelled."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from invoices.credit_notes import issue_credit_note
from invoices.documents.credit_notes import send_credit_note_email
from invoices.models import BusinessProfile, Invoice, InvoiceActivity, Payment
from invoices.pay import live
from invoices.services import record_offline_payment
from portal import timezones
from tests.factories import make_open

pytestmark = pytest.mark.django_db

# 23:30 in London on 1 March is already 2 March in Berlin and still 1 March in Los Angeles.
NEAR_MIDNIGHT = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)


@pytest.fixture
def admin_client(staff, staff_client):
    staff.is_superuser = True
    staff.save()
    return staff_client


def set_zone(name: str) -> None:
    profile = BusinessProfile.load()
    profile.time_zone = name
    profile.save()


def paid_near_midnight() -> Invoice:
    invoice = make_open(lines=1)
    record_offline_payment(
        invoice=invoice, amount=invoice.amount_due, method="cash", received_on=date(2026, 3, 1)
    )
    Invoice.objects.filter(pk=invoice.pk).update(paid_at=NEAR_MIDNIGHT)
    invoice.activities.update(created_at=NEAR_MIDNIGHT)
    return invoice


def test_it_defaults_to_the_settings_zone(settings):
    settings.TIME_ZONE = "UTC"
    assert BusinessProfile.load().time_zone == "UTC"


def test_staff_set_the_zone_in_the_profile(admin_client):
    page = admin_client.get(reverse("invoices:profile")).content.decode()
    assert '<option value="Europe/Berlin">Europe/Berlin</option>' in page
    data = {
        "name": "Studio",
        "email": "billing@studio.test",
        "default_currency": "EUR",
        "default_terms": "net_15",
        "default_language": "de",
        "number_prefix": "S-",
        "reminder_schedule": "0",
        "time_zone": "Europe/Berlin",
    }
    assert admin_client.post(reverse("invoices:profile"), data).status_code == 302
    assert BusinessProfile.load().time_zone == "Europe/Berlin"
    assert timezones.current_name() == "Europe/Berlin"  # the cache was told


@pytest.mark.parametrize(
    "bad", ["Mars/Olympus_Mons", "../../../etc/passwd", "/usr/share/zoneinfo/UTC", "europe/berlin"]
)
def test_it_refuses_a_zone_zoneinfo_does_not_know(admin_client, bad):
    data = {"name": "Studio", "email": "b@s.test", "default_currency": "EUR"}
    data |= {"default_terms": "net_15", "default_language": "de", "number_prefix": "S-"}
    data |= {"reminder_schedule": "0", "time_zone": bad}
    response = admin_client.post(reverse("invoices:profile"), data)
    assert response.status_code == 200
    assert "Enter a time zone name such as Europe/Berlin" in response.content.decode()
    assert BusinessProfile.load().time_zone == "UTC"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.one_of(st.text(max_size=80), st.sampled_from(["Europe/Berlin", "UTC", "Etc/GMT+5"])))
def test_any_zone_input_is_saved_only_when_zoneinfo_knows_it(admin_client, raw):
    data = {"name": "Studio", "email": "b@s.test", "default_currency": "EUR"}
    data |= {"default_terms": "net_15", "default_language": "de", "number_prefix": "S-"}
    data |= {"reminder_schedule": "0", "time_zone": raw}
    set_zone("UTC")
    response = admin_client.post(reverse("invoices:profile"), data)
    assert response.status_code in (200, 302, 400)
    saved = BusinessProfile.load().time_zone
    assert saved in timezones.zone_names()
    if response.status_code != 302:
        assert saved == "UTC"


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("Europe/Berlin", "Mar 2, 2026 00:30 CET"),
        ("UTC", "Mar 1, 2026 23:30 UTC"),
        ("America/Los_Angeles", "Mar 1, 2026 15:30 PST"),
    ],
)
def test_staff_read_times_in_the_zone_labelled(staff_client, zone, shown):
    invoice = paid_near_midnight()
    set_zone(zone)
    body = staff_client.get(invoice.get_absolute_url()).content.decode()
    assert shown in body


@pytest.mark.parametrize(
    ("zone", "day"), [("Europe/Berlin", "2 Mar 2026"), ("America/Los_Angeles", "1 Mar 2026")]
)
def test_the_customer_reads_the_paid_date_in_the_zone(client, zone, day):
    invoice = paid_near_midnight()
    set_zone(zone)
    body = client.get(invoice.get_pay_url()).content.decode()
    assert f"paid on {day}" in body
    invoice.refresh_from_db()
    assert f"paid on {day}" in live.render_customer_state(invoice)  # a live update alike


def test_a_changed_zone_shows_on_the_next_page(staff_client):
    invoice = paid_near_midnight()
    set_zone("UTC")
    assert "23:30 UTC" in staff_client.get(invoice.get_absolute_url()).content.decode()
    set_zone("Asia/Tokyo")
    assert "08:30 JST" in staff_client.get(invoice.get_absolute_url()).content.decode()


def test_the_ledger_books_the_business_day_and_exports_the_offset(staff_client):
    invoice = make_open(lines=1)
    payment = Payment.objects.create(
        invoice=invoice,
        amount=invoice.amount_due,
        currency="USD",
        status=Payment.Status.SUCCEEDED,
        stripe_payment_intent_id="pi_midnight",
    )
    Payment.objects.filter(pk=payment.pk).update(created_at=NEAR_MIDNIGHT)
    set_zone("Europe/Berlin")
    page = staff_client.get("/payments/", {"start": "2026-03-02", "end": "2026-03-02"})
    assert [row["entry_id"] for row in page.context["rows"]] == [payment.pk]
    assert "(Europe/Berlin)" in page.content.decode()
    body = b"".join(staff_client.get("/payments/export.csv").streaming_content).decode()
    (row,) = csv.DictReader(io.StringIO(body))
    assert (row["date"], row["recorded_at"]) == ("2026-03-02", "2026-03-02T00:30:00+01:00")
    set_zone("UTC")
    empty = staff_client.get("/payments/", {"start": "2026-03-02", "end": "2026-03-02"})
    assert empty.context["rows"] == []


def test_the_credit_note_email_and_pdf_date_in_the_zone(mailoutbox):
    invoice = make_open()
    note = issue_credit_note(invoice=invoice, amount=100, reason="Late")
    type(note).objects.filter(pk=note.pk).update(created_at=NEAR_MIDNIGHT)
    set_zone("Europe/Berlin")
    mail = send_credit_note_email(invoice, note.number)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(mail.attachments[0][1])).pages)
    assert "2026-03-02" in text
    assert "2026-03-01" not in text


def test_activity_entries_are_labelled_even_in_utc(staff_client):
    invoice = make_open()
    entry = invoice.activities.filter(kind=InvoiceActivity.Kind.FINALIZED).get()
    local = entry.created_at.astimezone(UTC)
    assert f"{local:%H:%M} UTC" in staff_client.get(invoice.get_absolute_url()).content.decode()


def test_a_live_reload_of_the_invoice_page_keeps_the_zone(staff_client):
    invoice = paid_near_midnight()
    set_zone("Europe/Berlin")
    fragment = staff_client.get(
        invoice.get_absolute_url(),
        headers={"HX-Request": "true", "HX-Target": "invoice-live-sections"},
    ).content.decode()
    assert "<html" not in fragment  # the fragment alone, without the base template
    assert "Mar 2, 2026 00:30 CET" in fragment


def test_another_process_follows_a_change_through_the_shared_cache(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(timezones.time, "monotonic", lambda: clock[0])
    timezones.assume_default()
    assert timezones.current_name() == "UTC"
    # Another worker saved the profile: it wrote the shared cache (and the database).
    BusinessProfile.objects.update_or_create(pk=1, defaults={"time_zone": "Asia/Tokyo"})
    timezones.shared_cache.set(timezones.CACHE_KEY, "Asia/Tokyo", 300)
    timezones._memo["name"] = ("UTC", clock[0])  # this worker still remembers the old one
    assert timezones.current_name() == "UTC"
    clock[0] += timezones.MEMO_SECONDS
    assert timezones.current_name() == "Asia/Tokyo"


def test_a_cold_process_reads_the_profile_once(django_assert_num_queries):
    BusinessProfile.objects.update_or_create(pk=1, defaults={"time_zone": "Europe/Paris"})
    timezones._memo.clear()
    timezones.shared_cache.clear()
    with django_assert_num_queries(1):
        assert timezones.current_name() == "Europe/Paris"
        assert timezones.current_name() == "Europe/Paris"
