from __future__ import annotations

import io
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from invoices.documents import pdf as documents
from invoices.models import BusinessProfile, Invoice, Payment
from tests.factories import InvoiceLineFactory, make_draft, make_open, pay

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def pdf_image_count(content: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(content)).pages)


def test_it_renders_an_open_invoice() -> None:
    invoice = make_open(memo="Thank you for your business", footer="Bank: IBAN XX00 1234")
    text = pdf_text(documents.invoice_pdf(invoice))
    assert invoice.number in text
    assert invoice.customer.name in text
    assert "Example Ltd" in text
    assert "1 Example Street" in text
    for line in invoice.lines.all():
        assert line.description in text
    assert "Subtotal $200.00" in text
    assert "Total $200.00" in text
    assert "Amount due $200.00" in text
    assert "Thank you for your business" in text
    assert "IBAN XX00 1234" in text
    assert "Acme Studio" in text
    assert invoice.get_absolute_pay_url() in text
    assert "PAID" not in text
    assert "VOID" not in text


def test_it_draws_a_qr_code_only_while_unpaid() -> None:
    invoice = make_open()
    assert pdf_image_count(documents.invoice_pdf(invoice)) == 1
    pay(invoice)
    assert pdf_image_count(documents.invoice_pdf(invoice)) == 0


def test_it_shows_quantities_tax_and_discount() -> None:
    invoice = make_draft(lines=0, discount_kind="percent", discount_value=Decimal(10))
    InvoiceLineFactory(
        invoice=invoice,
        description="Design hours",
        quantity=Decimal("2.500"),
        unit_amount=8000,
        tax_rate=Decimal("20.00"),
    )
    invoice.recalculate()
    invoice.save()
    text = pdf_text(documents.invoice_pdf(invoice))
    assert "Design hours 2.5 $80.00 20% $200.00" in text
    assert "Discount (10%) -$20.00" in text
    assert "Tax $36.00" in text
    assert "Total $216.00" in text
    assert "DRAFT" in text


def test_it_marks_a_paid_invoice_paid() -> None:
    invoice = make_open()
    pay(invoice)
    text = pdf_text(documents.invoice_pdf(invoice))
    assert "PAID" in text
    assert "Paid -$200.00" in text
    assert "Amount due $0.00" in text
    assert "/pay/" not in text


def test_it_marks_a_void_invoice_void() -> None:
    invoice = make_open()
    invoice.status = Invoice.Status.VOID
    invoice.save()
    text = pdf_text(documents.invoice_pdf(invoice))
    assert "VOID" in text
    assert "Nothing is owed" in text
    assert "/pay/" not in text


def test_it_says_overdue_when_past_due() -> None:
    invoice = make_open()
    Invoice.objects.filter(pk=invoice.pk).update(
        issue_date=timezone.localdate() - timedelta(days=40),
        due_date=timezone.localdate() - timedelta(days=10),
    )
    invoice.refresh_from_db()
    text = pdf_text(documents.invoice_pdf(invoice))
    assert "Overdue" in text
    assert "This invoice is overdue" in text


def test_it_shows_refunds() -> None:
    invoice = make_open()
    pay(invoice)
    invoice.add_refund(5000)
    invoice.save()
    assert "Refunded $50.00" in pdf_text(documents.invoice_pdf(invoice))


def test_it_embeds_the_logo_from_storage(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), "navy").save(buffer, format="PNG")
    profile = BusinessProfile.load()
    profile.logo.save("logo.png", ContentFile(buffer.getvalue()))
    invoice = make_open()
    assert pdf_image_count(documents.invoice_pdf(invoice)) == 2  # logo + QR code


def test_it_renders_without_a_missing_logo_file(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    BusinessProfile.objects.update_or_create(pk=1, defaults={"logo": "logos/gone.png"})
    assert documents.invoice_pdf(make_open()).startswith(b"%PDF")


def test_it_never_fetches_remote_urls() -> None:
    # 10.255.255.1 is unroutable: fetching it would hang until a timeout.
    html = '<p>Hi</p><img src="http://10.255.255.1/x.png"><link rel="stylesheet" href="https://10.255.255.1/a.css">'
    started = time.monotonic()
    assert documents.html_to_pdf(html).startswith(b"%PDF")
    assert time.monotonic() - started < 2


def test_it_escapes_markup_in_user_text() -> None:
    invoice = make_open(memo='<img src="http://10.255.255.1/x.png"> & <b>bold</b>')
    assert '<img src="http://10.255.255.1/x.png"> & <b>bold</b>' in pdf_text(
        documents.invoice_pdf(invoice)
    )


def test_it_renders_a_receipt() -> None:
    invoice = make_open()
    payment = pay(invoice)
    text = pdf_text(documents.receipt_pdf(invoice, payment))
    assert "RECEIPT" in text
    assert invoice.number in text
    assert invoice.customer.name in text
    assert "Amount paid $200.00" in text
    assert "Visa •••• 4242" in text
    assert payment.stripe_payment_intent_id in text
    assert timezone.localdate().isoformat() in text
    assert "PAID" in text


def test_it_describes_an_offline_payment_on_the_receipt() -> None:
    invoice = make_open()
    payment = Payment.objects.create(
        invoice=invoice,
        method=Payment.Method.BANK_TRANSFER,
        status=Payment.Status.SUCCEEDED,
        amount=5000,
        currency="USD",
        reference="WIRE-77",
        received_on=timezone.localdate() - timedelta(days=2),
    )
    text = pdf_text(documents.receipt_pdf(invoice, payment))
    assert "Bank transfer (ref WIRE-77)" in text
    assert f"P-{payment.pk}" in text
    assert (timezone.localdate() - timedelta(days=2)).isoformat() in text
    assert "PAID" not in text  # a partial payment: the invoice is still open


# -- downloads ----------------------------------------------------------------


def test_it_lets_staff_download_the_pdf(staff_client) -> None:
    invoice = make_open()
    response = staff_client.get(f"/invoices/{invoice.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert response.content.startswith(b"%PDF")
    assert invoice.number in pdf_text(response.content)


def test_it_lets_staff_download_a_draft(staff_client) -> None:
    invoice = make_draft()
    response = staff_client.get(f"/invoices/{invoice.pk}/pdf/")
    assert response.status_code == 200
    assert f"draft-{invoice.pk}.pdf" in response["Content-Disposition"]


def test_it_lets_staff_download_a_receipt(staff_client) -> None:
    invoice = make_open()
    payment = pay(invoice)
    response = staff_client.get(f"/invoices/{invoice.pk}/payments/{payment.pk}/receipt.pdf")
    assert response.status_code == 200
    assert "RECEIPT" in pdf_text(response.content)


def test_it_404s_an_unknown_invoice_pdf(staff_client) -> None:
    assert staff_client.get("/invoices/999999/pdf/").status_code == 404


def test_it_refuses_the_staff_pdf_to_others(client, stranger_client) -> None:
    invoice = make_open()
    response = client.get(f"/invoices/{invoice.pk}/pdf/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert stranger_client.get(f"/invoices/{invoice.pk}/pdf/").status_code == 403


def test_it_lets_the_customer_download_by_token(client) -> None:
    invoice = make_open()
    response = client.get(f"/pay/{invoice.pay_token}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert invoice.get_absolute_pay_url() in pdf_text(response.content)


def test_it_gives_the_customer_the_receipt_once_paid(client) -> None:
    invoice = make_open()
    payment = pay(invoice)
    response = client.get(f"/pay/{invoice.pay_token}/pdf/")
    assert response.status_code == 200
    assert f"{invoice.number}-receipt-{payment.pk}.pdf" in response["Content-Disposition"]
    assert "RECEIPT" in pdf_text(response.content)


def test_it_404s_a_wrong_or_draft_token(client) -> None:
    assert client.get("/pay/not-a-real-token/pdf/").status_code == 404
    draft = make_draft()
    assert client.get(f"/pay/{draft.pay_token}/pdf/").status_code == 404


def test_it_404s_a_revoked_token(client) -> None:
    invoice = make_open()
    old_token = invoice.pay_token
    invoice.rotate_pay_token()
    assert client.get(f"/pay/{old_token}/pdf/").status_code == 404


# -- email previews -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["invoice", "receipt", "reminder", "refund", "void"])
def test_it_previews_each_email(staff_client, kind: str) -> None:
    invoice = make_open()
    response = staff_client.get(f"/invoices/{invoice.pk}/emails/{kind}/")
    assert response.status_code == 200
    assert response.context["subject"]
    assert invoice.number in response.context["subject"]
    assert invoice.number in response.context["text"]
    assert f"/invoices/{invoice.pk}/emails/{kind}/html/" in response.text
    html = staff_client.get(f"/invoices/{invoice.pk}/emails/{kind}/html/")
    assert html.status_code == 200
    assert invoice.customer.name in html.text
    assert "'unsafe-inline'" in html["Content-Security-Policy"]
    assert "script-src" not in html["Content-Security-Policy"]  # default-src 'none' covers it
    assert html["X-Frame-Options"] == "SAMEORIGIN"


def test_it_previews_a_reminder_for_a_chosen_day(staff_client) -> None:
    invoice = make_open()
    before = staff_client.get(f"/invoices/{invoice.pk}/emails/reminder/?offset=-3")
    after = staff_client.get(f"/invoices/{invoice.pk}/emails/reminder/?offset=7")
    assert "due in 3 days" in before.context["subject"]
    assert "was due 7 days ago" in after.context["subject"]


def test_it_sends_nothing_from_a_preview(staff_client, mailoutbox) -> None:
    invoice = make_open()
    staff_client.get(f"/invoices/{invoice.pk}/emails/invoice/")
    staff_client.get(f"/invoices/{invoice.pk}/emails/invoice/html/")
    assert mailoutbox == []


def test_it_404s_an_unknown_preview(staff_client) -> None:
    invoice = make_open()
    assert staff_client.get(f"/invoices/{invoice.pk}/emails/nope/").status_code == 404
    assert staff_client.get("/invoices/999999/emails/invoice/").status_code == 404


@pytest.mark.parametrize("suffix", ["", "html/"])
def test_it_refuses_previews_to_others(client, stranger_client, suffix: str) -> None:
    invoice = make_open()
    url = f"/invoices/{invoice.pk}/emails/invoice/{suffix}"
    response = client.get(url)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert stranger_client.get(url).status_code == 403
