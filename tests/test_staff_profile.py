from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from invoices.models import BusinessProfile
from tests.factories import make_open

# The smallest valid GIF: the logo field checks it is a real image.
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


@pytest.fixture
def admin_client(staff, staff_client):
    staff.is_superuser = True
    staff.save()
    return staff_client


def profile_data(**changes) -> dict:
    return {
        "name": "Studio Nine",
        "email": "billing@nine.test",
        "address": "9 Nine Street\nNineville",
        "tax_id": "EU999",
        "default_currency": "EUR",
        "default_terms": "net_15",
        "default_language": "fr",
        "number_prefix": "N9-",
        "reminder_schedule": "7, -3, 0",
        "default_footer": "Thank you.",
        **changes,
    }


def test_it_saves_the_business_profile(admin_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    logo = SimpleUploadedFile("logo.gif", GIF, content_type="image/gif")
    response = admin_client.post(reverse("invoices:profile"), {**profile_data(), "logo": logo})
    assert response.status_code == 302
    profile = BusinessProfile.load()
    assert (profile.name, profile.number_prefix, profile.reminder_schedule) == (
        "Studio Nine",
        "N9-",
        "-3,0,7",
    )
    assert profile.logo.name.startswith("logos/")


def test_it_rejects_a_bad_reminder_schedule(admin_client):
    response = admin_client.post(
        reverse("invoices:profile"), profile_data(reminder_schedule="3, soon")
    )
    assert "“soon” is not a whole number of days" in response.text
    assert BusinessProfile.load().name != "Studio Nine"


def test_it_refuses_staff_who_are_not_superusers(staff_client):
    response = staff_client.post(reverse("invoices:profile"), profile_data())
    assert response.status_code == 403
    assert BusinessProfile.load().name != "Studio Nine"


def test_it_starts_new_drafts_from_the_profile(admin_client, customer):
    admin_client.post(reverse("invoices:profile"), profile_data())
    page = admin_client.get(reverse("invoices:new"))
    assert '<option value="EUR" selected>' in page.text
    admin_client.post(reverse("invoices:new"), {"customer": customer.pk, "currency": "EUR"})
    draft = customer.invoices.get()
    assert (draft.terms, draft.footer) == ("net_15", "Thank you.")


def test_it_shows_the_profile_on_invoices(admin_client, db):
    admin_client.post(reverse("invoices:profile"), profile_data())
    invoice = make_open()
    text = admin_client.get(invoice.get_absolute_url()).text
    assert "Studio Nine" in text
    assert "9 Nine Street" in text
    assert "EU999" in text
