from __future__ import annotations

import email.policy
import io
import re
from datetime import timedelta
from email import message_from_bytes
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import resolve
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from invoices.documents import emails
from invoices.models import BusinessProfile, Invoice, Payment
from tests import factories
from tests.factories import CustomerFactory, make_open

pytestmark = pytest.mark.django_db

TAG = re.compile(r"</?[a-zA-Z][^>]*>|&[a-z]+;|&#\d+;|&#x[0-9a-f]+;")
URL = re.compile(r"https?://[^\s\"'<>]+")


def html_part(message) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


def pdf_attachment(message) -> tuple[str, bytes]:
    [attachment] = message.attachments
    assert attachment.mimetype == "application/pdf"
    assert attachment.content.startswith(b"%PDF")
    return attachment.filename, attachment.content


def assert_sent_once(mailoutbox, message) -> None:
    """The outbox holds copies, so compare what the customer would see."""
    assert len(mailoutbox) == 1
    assert (mailoutbox[0].to, mailoutbox[0].subject) == (message.to, message.subject)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def assert_pay_link(url: str, invoice: Invoice, client) -> None:
    assert url.startswith(settings.SITE_URL + "/")
    match = resolve(urlsplit(url).path)
    assert match.view_name == "pay:invoice"
    assert match.kwargs == {"token": invoice.pay_token}
    assert client.get(urlsplit(url).path).status_code == 200


def pay(invoice: Invoice, amount: int | None = None) -> Payment:
    return factories.pay(invoice, amount, card_brand="mastercard", card_last4="4444")


def test_it_sends_the_invoice(mailoutbox, client) -> None:
    invoice = make_open()
    message = emails.send_invoice_email(invoice)
    assert_sent_once(mailoutbox, message)
    assert message.to == [invoice.customer.email]
    assert message.reply_to == ["billing@example.com"]
    assert message.subject == (
        f"Invoice {invoice.number} from Acme Studio: $200.00 due {invoice.due_date.isoformat()}"
    )
    filename, content = pdf_attachment(message)
    assert filename == f"{invoice.number}.pdf"
    assert invoice.number in pdf_text(content)
    pay_url = invoice.get_absolute_pay_url()
    assert pay_url in message.body
    assert f'href="{pay_url}"' in html_part(message)
    assert_pay_link(URL.search(message.body).group(), invoice, client)


def test_it_keeps_html_out_of_the_text_part() -> None:
    customer = CustomerFactory(name="O'Brien & <Sons>", company="Tom & Jerry")
    invoice = make_open(customer=customer, memo="Net 30 <please> & thanks")
    message = emails.send_invoice_email(invoice)
    assert "Hello O'Brien & <Sons>," in message.body
    assert "Net 30 <please> & thanks" in message.body
    assert not TAG.search(message.body.replace("<Sons>", "").replace("<please>", ""))
    assert "O&#x27;Brien &amp; &lt;Sons&gt;" in html_part(message)  # escaped in html
    assert "<Sons>" not in html_part(message)


def test_it_puts_the_business_in_the_html_header(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (60, 20), "teal").save(buffer, format="PNG")
    profile = BusinessProfile.load()
    profile.logo.save("logo.png", ContentFile(buffer.getvalue()))
    message = emails.send_invoice_email(make_open())
    html = html_part(message)
    assert "Acme Studio" in html
    assert "1 Market Street<br>San Francisco, CA 94105" in html
    # Email clients: inline styles only, no other external resources.
    assert "<link" not in html
    assert "<script" not in html
    assert "<style" not in html
    # The logo travels inside the message (nothing serves /media/ in production).
    assert re.findall(r'src="([^"]+)"', html) == [f"cid:{emails.LOGO_CID}"]
    assert "/media/" not in html
    parsed = message_from_bytes(message.message().as_bytes(), policy=email.policy.default)
    [related] = [part for part in parsed.walk() if part.get_content_type() == "multipart/related"]
    html_body, image = related.get_payload()
    assert html_body.get_content_type() == "text/html"
    assert image["Content-ID"] == f"<{emails.LOGO_CID}>"
    assert image.get_content_type() == "image/png"
    assert image.get_content_disposition() == "inline"
    assert image.get_content() == buffer.getvalue()
    # The text part and the PDF are still there, beside the html.
    assert parsed.get_body(preferencelist=("plain",)).get_content().startswith("Hello")
    assert [part.get_filename() for part in parsed.iter_attachments()] == [
        f"{message.attachments[0].filename}"
    ]


def test_it_previews_the_logo_inline(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10), "red").save(buffer, format="PNG")
    BusinessProfile.load().logo.save("logo.png", ContentFile(buffer.getvalue()))
    invoice = make_open()
    _, _, html = emails.preview_email(invoice, "invoice")
    assert 'src="data:image/png;base64,' in html
    assert "cid:" not in html


def test_it_sends_no_logo_when_there_is_none() -> None:
    html = html_part(emails.send_invoice_email(make_open()))
    assert "<img" not in html


def test_it_sends_a_receipt(mailoutbox) -> None:
    invoice = make_open()
    payment = pay(invoice)
    message = emails.send_receipt_email(invoice, payment)
    assert_sent_once(mailoutbox, message)
    assert message.to == [invoice.customer.email]
    assert message.subject == f"Receipt from Acme Studio: $200.00 paid for invoice {invoice.number}"
    for part in (message.body, html_part(message)):
        assert "Mastercard •••• 4444" in part
        assert payment.stripe_payment_intent_id in part
        assert timezone.localdate().isoformat() in part
        assert "paid in full" in part
    filename, content = pdf_attachment(message)
    assert filename == f"{invoice.number}-receipt-{payment.pk}.pdf"
    assert "RECEIPT" in pdf_text(content)


def test_it_points_to_the_rest_after_a_partial_payment(client) -> None:
    invoice = make_open()
    payment = pay(invoice, 5000)
    message = emails.send_receipt_email(invoice, payment)
    assert "$150.00 is still due" in message.body
    assert_pay_link(invoice.get_absolute_pay_url(), invoice, client)
    assert invoice.get_absolute_pay_url() in message.body


def set_due(invoice: Invoice, days_from_today: int) -> None:
    due = timezone.localdate() + timedelta(days=days_from_today)
    Invoice.objects.filter(pk=invoice.pk).update(issue_date=due - timedelta(days=30), due_date=due)
    invoice.refresh_from_db()


def test_it_words_a_reminder_before_the_due_date(mailoutbox, client) -> None:
    invoice = make_open()
    set_due(invoice, 3)
    message = emails.send_reminder_email(invoice, -3)
    assert message.subject.startswith(
        f"Reminder: invoice {invoice.number} ($200.00) is due in 3 days"
    )
    assert "is due in 3 days" in message.body
    assert "overdue" not in message.body
    assert_pay_link(URL.search(message.body).group(), invoice, client)
    assert pdf_attachment(message)[0] == f"{invoice.number}.pdf"


def test_it_words_a_reminder_on_the_due_date() -> None:
    invoice = make_open()
    set_due(invoice, 0)
    message = emails.send_reminder_email(invoice, 0)
    assert "is due today" in message.subject
    assert "is due today" in message.body


def test_it_words_a_reminder_after_the_due_date() -> None:
    invoice = make_open()
    set_due(invoice, -7)
    message = emails.send_reminder_email(invoice, 7)
    assert message.subject.startswith(f"Overdue: invoice {invoice.number}")
    assert "was due 7 days ago" in message.subject
    assert "7 days overdue" in message.body
    assert "This invoice is overdue." in html_part(message)
    assert "Overdue" in pdf_text(pdf_attachment(message)[1])


def test_it_words_a_late_reminder_by_the_calendar() -> None:
    # The "3 days before" slot caught up on the due date itself must not say "in 3 days".
    invoice = make_open()
    set_due(invoice, 0)
    assert "is due today" in emails.send_reminder_email(invoice, -3).subject


def test_it_sends_a_refund_notice(mailoutbox) -> None:
    invoice = make_open()
    payment = pay(invoice)
    payment.amount_refunded = 5000
    payment.save()
    message = emails.send_refund_email(invoice, payment, 5000)
    assert_sent_once(mailoutbox, message)
    assert message.to == [invoice.customer.email]
    assert message.subject == f"Refund of $50.00 for invoice {invoice.number} from Acme Studio"
    assert "refunded $50.00" in message.body
    assert "Mastercard •••• 4444" in message.body
    assert "5 to 10 business days" in html_part(message)


def test_it_sends_a_void_notice(mailoutbox) -> None:
    invoice = make_open()
    invoice.status = Invoice.Status.VOID
    invoice.save()
    message = emails.send_void_email(invoice)
    assert_sent_once(mailoutbox, message)
    assert message.to == [invoice.customer.email]
    assert message.subject == f"Invoice {invoice.number} from Acme Studio has been voided"
    assert "nothing to pay" in message.body
    assert "nothing to pay" in html_part(message)
    assert message.attachments == []


@pytest.mark.parametrize("kind", ["payment_received", "payment_failed", "dispute", "flag"])
def test_it_notifies_staff(mailoutbox, staff_client, kind: str) -> None:
    invoice = make_open()
    message = emails.send_staff_notice(invoice, kind, "Card declined: insufficient funds")
    assert_sent_once(mailoutbox, message)
    assert message.to == ["billing@example.com"]
    assert invoice.number in message.subject
    assert "Card declined: insufficient funds" in message.body
    staff_url = settings.SITE_URL + invoice.get_absolute_url()
    assert staff_url in message.body
    assert f'href="{staff_url}"' in html_part(message)
    assert resolve(urlsplit(staff_url).path).view_name == "invoices:detail"
    assert staff_client.get(urlsplit(staff_url).path).status_code == 200


def test_it_rejects_an_unknown_staff_notice(mailoutbox) -> None:
    with pytest.raises(ValueError, match="nope"):
        emails.send_staff_notice(make_open(), "nope", "?")
    assert mailoutbox == []


@pytest.mark.parametrize(
    "send",
    [
        lambda invoice, payment: emails.send_invoice_email(invoice),
        lambda invoice, payment: emails.send_receipt_email(invoice, payment),
        lambda invoice, payment: emails.send_reminder_email(invoice, 7),
        lambda invoice, payment: emails.send_refund_email(invoice, payment, 100),
        lambda invoice, payment: emails.send_void_email(invoice),
        lambda invoice, payment: emails.send_staff_notice(invoice, "flag", "Look"),
    ],
)
def test_it_writes_every_text_part_without_markup(send) -> None:
    customer = CustomerFactory(name="Ann & Bob's", company="A&B")
    invoice = make_open(customer=customer, memo="Thanks & regards")
    payment = pay(invoice, 1000)
    message = send(invoice, payment)
    assert not TAG.search(message.body), message.body
    assert not TAG.search(message.subject)
    assert "\n\n\n" not in message.body  # no gaps left by template tags
