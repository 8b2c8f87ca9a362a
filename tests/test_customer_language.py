"""The customer's language: pay page, live updates, emails and PDFs; staff stay English."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from customers.models import Customer
from invoices.documents import emails
from invoices.documents import pdf as documents
from invoices.forms import BusinessProfileForm
from invoices.models import BusinessProfile, Invoice
from invoices.pay import live as pay_live
from invoices.services import record_offline_payment
from invoices.staff import live as staff_live
from portal.i18n import format_date_in, format_money_in
from tests.factories import CustomerFactory, make_open, pay

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"  # between amount and currency symbol (German, French)
NNBSP = "\u202f"  # French thousands separator
DUE = date(2099, 12, 29)  # far enough ahead never to be overdue


def invoice_for(language: str = "", *, currency: str = "EUR", **kwargs) -> Invoice:
    """Two lines of 617.28: a total of 1,234.56 in `currency`, due on DUE."""
    customer = CustomerFactory(language=language, name="Zoë Müller")
    invoice = make_open(customer=customer, currency=currency, unit_amount=61728, **kwargs)
    Invoice.objects.filter(pk=invoice.pk).update(issue_date=date(2099, 11, 29), due_date=DUE)
    invoice.refresh_from_db()
    return invoice


def set_default_language(language: str) -> None:
    BusinessProfile.objects.update_or_create(pk=1, defaults={"default_language": language})


def html_part(message) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


def pdf_text(content: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.replace(NBSP, " ").replace(NNBSP, " ").split())


# -- formats -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "currency", "expected"),
    [
        ("en", "EUR", "€1,234.56"),
        ("de", "EUR", f"1.234,56{NBSP}€"),
        ("fr", "EUR", f"1{NNBSP}234,56{NBSP}€"),
        ("de", "USD", f"1.234,56{NBSP}$"),
        ("fr", "CHF", f"1{NNBSP}234,56{NBSP}CHF"),
        # Zero-decimal currencies: the minor unit is the yen / won, in every language.
        ("en", "JPY", "¥123,456"),
        ("de", "JPY", f"123.456{NBSP}¥"),
        ("fr", "KRW", f"123{NNBSP}456{NBSP}₩"),
    ],
)
def test_it_formats_money_by_locale(language, currency, expected):
    assert format_money_in(123456, currency, language) == expected


def test_it_formats_negative_and_zero_amounts():
    assert format_money_in(-500, "EUR", "de") == f"-5,00{NBSP}€"
    assert format_money_in(0, "JPY", "fr") == f"0{NBSP}JPY"


def test_it_formats_money_in_the_active_language():
    with translation.override("de"):
        assert format_money_in(123456, "EUR") == f"1.234,56{NBSP}€"
    assert format_money_in(123456, "EUR") == "€1,234.56"  # staff: English


def test_it_formats_dates_by_locale():
    assert format_date_in(DUE, "j M Y", "en") == "29 Dec 2099"
    assert format_date_in(DUE, "Y-m-d", "en") == "2099-12-29"
    assert format_date_in(DUE, "Y-m-d", "de") == "29.12.2099"
    assert format_date_in(DUE, "Y-m-d", "fr") == "29 déc. 2099"


# -- the pay page ------------------------------------------------------------------


def test_it_shows_the_pay_page_in_german(client):
    invoice = invoice_for("de")
    response = client.get(invoice.get_pay_url())
    body = response.text
    assert response["Content-Language"] == "de"
    assert '<html lang="de">' in body
    assert f"Rechnung {invoice.number}" in body
    assert "Fällig am</dt><dd>29.12.2099" in body
    assert "Fälliger Betrag" in body
    assert f"1.234,56{NBSP}€ bezahlen" in body
    assert "Rechnung herunterladen (PDF)" in body
    assert ">Offen<" in body  # the status label
    assert "Amount due" not in body


def test_it_shows_the_pay_page_in_french(client):
    invoice = invoice_for("fr")
    body = client.get(invoice.get_pay_url()).text
    assert '<html lang="fr">' in body
    assert f"Facture {invoice.number}" in body
    assert "À régler avant le</dt><dd>29 déc. 2099" in body
    assert f"Payer 1{NNBSP}234,56{NBSP}€" in body
    assert "Télécharger la facture (PDF)" in body


def test_english_remains_the_default(client):
    invoice = invoice_for("", currency="USD")
    response = client.get(invoice.get_pay_url())
    assert response["Content-Language"] == "en"
    assert '<html lang="en">' in response.text
    assert "Pay $1,234.56" in response.text
    assert "Due</dt><dd>29 Dec 2099" in response.text


def test_a_customer_without_a_language_gets_the_business_default(client):
    set_default_language("fr")
    invoice = invoice_for("")
    body = client.get(invoice.get_pay_url()).text
    assert '<html lang="fr">' in body
    assert f"Payer 1{NNBSP}234,56{NBSP}€" in body


def test_the_customers_own_language_wins_over_the_business_default(client):
    set_default_language("fr")
    invoice = invoice_for("en")
    assert "Pay €1,234.56" in client.get(invoice.get_pay_url()).text


def test_it_shows_a_paid_invoice_in_german(client):
    invoice = invoice_for("de")
    pay(invoice)
    body = client.get(invoice.get_pay_url()).text
    assert "<h2>Bezahlt</h2>" in body
    assert f"Wir haben Ihre Zahlung über 1.234,56{NBSP}€ am " in body
    assert "Quittung herunterladen (PDF)" in body


def test_the_return_page_speaks_the_customers_language(client):
    invoice = invoice_for("de")
    body = client.get(f"{invoice.get_pay_url()}?payment_intent=pi_someone_elses").text
    assert "Diese Zahlung gehört nicht zu dieser Rechnung." in body


def test_it_refuses_a_payment_in_the_customers_language(client):
    invoice = invoice_for("de")
    pay(invoice)
    response = client.post(f"{invoice.get_pay_url()}pay/")
    assert "Diese Rechnung ist bereits bezahlt. Vielen Dank!" in response.text


def started(client, invoice: Invoice) -> dict[str, str]:
    """The card form the customer sees: its intent and the amount it shows."""
    html = client.post(f"{invoice.get_pay_url()}pay/").text
    found = dict(re.findall(r'data-(payment-intent|amount)="([^"]*)"', html))
    assert found, html
    return {"payment_intent": found["payment-intent"], "amount": found["amount"]}


def pressed_pay(client, invoice: Invoice, shown: dict[str, str]) -> str:
    response = client.post(f"{invoice.get_pay_url()}pay/check/", shown)
    assert response.status_code == 409
    return response.text


def paid_offline(invoice: Invoice, amount: int) -> None:
    record_offline_payment(
        invoice=invoice, amount=amount, method="bank_transfer", received_on=date.today()
    )


def test_the_pay_time_check_says_the_new_amount_in_german(client, stripe_env):
    invoice = invoice_for("de")
    shown = started(client, invoice)
    paid_offline(invoice, 23456)
    html = pressed_pay(client, invoice, shown)
    assert (
        f"Der fällige Betrag beträgt jetzt 1.000,00{NBSP}€. Es wurde nichts belastet; "
        "prüfen Sie den neuen Betrag und klicken Sie erneut auf „Bezahlen“."
    ) in html
    assert "The amount due is now" not in html


def test_the_pay_time_check_refuses_an_old_form_in_french(client, stripe_env):
    invoice = invoice_for("fr")
    shown = started(client, invoice)
    html = pressed_pay(client, invoice, {**shown, "payment_intent": "pi_from_an_old_tab"})
    assert "Ce formulaire de paiement n\u2019est plus à jour. Rien n\u2019a été débité" in html
    assert "out of date" not in html


def test_the_pay_time_check_on_a_paid_invoice_says_so_once_in_german(client, stripe_env):
    invoice = invoice_for("de")
    shown = started(client, invoice)
    paid_offline(invoice, invoice.amount_due)
    html = pressed_pay(client, invoice, shown)
    assert html.count("Diese Rechnung ist bereits bezahlt. Vielen Dank!") == 1
    assert "already paid" not in html


def test_the_smallest_card_payment_is_explained_in_german(client):
    invoice = invoice_for("de", currency="GBP")
    paid_offline(invoice, invoice.amount_due - 20)
    page = client.get(invoice.get_pay_url()).text
    assert (
        f"Die kleinste Kartenzahlung in GBP beträgt 0,30{NBSP}£. Bitte kontaktieren Sie uns, "
        f"um die restlichen 0,20{NBSP}£ auf anderem Weg zu bezahlen."
    ) in page
    assert "smallest card payment" not in page


def test_stripes_own_minimum_refusal_is_explained_in_french(client, stripe_env, monkeypatch):
    from portal import money

    invoice = invoice_for("fr", currency="DKK")
    paid_offline(invoice, invoice.amount_due - 100)
    monkeypatch.setitem(money.MINIMUM_CHARGE, "DKK", 1)
    html = client.post(f"{invoice.get_pay_url()}pay/").text
    assert (
        "Ce montant est inférieur au plus petit paiement par carte accepté par Stripe "
        "en DKK. Veuillez nous contacter pour le régler autrement."
    ) in html
    assert "data-payment-form" not in html


def test_it_pushes_live_updates_in_the_customers_language():
    invoice = invoice_for("fr")
    pay(invoice)
    html = pay_live.render_customer_status(Invoice.objects.get(pk=invoice.pk))
    assert "<h2>Payée</h2>" in html
    assert f"Nous avons reçu 1{NNBSP}234,56{NBSP}€" in html
    # The staff side of the same change stays English.
    staff_html = "".join(html for _, html in staff_live.staff_messages(invoice))
    assert "Paid" in staff_html
    assert "Payée" not in staff_html
    assert translation.get_language() == "en-us"  # nothing leaked into the thread


def test_staff_pages_stay_english(staff_client):
    invoice = invoice_for("de")
    body = staff_client.get(invoice.get_absolute_url()).text
    assert '<html lang="en' in body
    assert "€1,234.56" in body
    assert "Rechnung" not in body


# -- emails -------------------------------------------------------------------


def test_it_sends_the_invoice_email_in_german(mailoutbox):
    invoice = invoice_for("de")
    message = emails.send_invoice_email(invoice)
    amount = f"1.234,56{NBSP}€"
    assert message.subject == (
        f"Rechnung {invoice.number} von Acme Studio: {amount}, fällig am 29.12.2099"
    )
    text, html = message.body, html_part(message)
    assert text.startswith("Guten Tag Zoë Müller,")
    assert f"die Rechnung {invoice.number} über {amount} gesendet, fällig am 29.12.2099." in text
    assert f"Fälliger Betrag: {amount}" in text
    assert "Online mit Karte bezahlen:" in text
    assert '<html lang="de">' in html
    assert f"über <strong>{amount}</strong> gesendet" in html
    assert "Rechnung ansehen und bezahlen" in html
    assert "Fragen? Antworten Sie auf diese E-Mail" in html
    assert "Hello" not in text + html
    [attachment] = message.attachments
    assert "RECHNUNG" in pdf_text(attachment.content)


def test_it_sends_a_french_reminder_with_the_right_plural(mailoutbox):
    invoice = invoice_for("fr")
    Invoice.objects.filter(pk=invoice.pk).update(due_date=date(2099, 12, 4))
    invoice.refresh_from_db()
    # The preview renders exactly what the reminder on that day of the schedule sends.
    one_day = emails.preview_email(invoice, "reminder", offset_days=-1)
    three_days = emails.preview_email(invoice, "reminder", offset_days=-3)
    assert one_day[0].startswith(f"Rappel{NBSP}: facture {invoice.number} (")
    assert "à régler dans 1 jour - Acme Studio" in one_day[0]
    assert "à régler dans 3 jours - Acme Studio" in three_days[0]
    assert "le 4 déc. 2099" in three_days[1]
    assert '<html lang="fr">' in three_days[2]
    sent = emails.send_reminder_email(invoice, -3)
    assert sent.subject.startswith(f"Rappel{NBSP}: facture {invoice.number}")
    assert "Payer la facture" in html_part(sent)


def test_it_sends_the_receipt_in_french(mailoutbox):
    invoice = invoice_for("fr")
    payment = pay(invoice)
    message = emails.send_receipt_email(invoice, payment)
    amount = f"1{NNBSP}234,56{NBSP}€"
    assert (
        message.subject
        == f"Reçu de Acme Studio{NBSP}: {amount} payés pour la facture {invoice.number}"
    )
    for part in (message.body, html_part(message)):
        assert "Visa •••• 4242" in part
        assert "La facture est désormais entièrement réglée." in part
    assert f"nous avons bien reçu votre paiement de <strong>{amount}</strong>" in html_part(message)
    [attachment] = message.attachments
    text = pdf_text(attachment.content)
    assert "REÇU" in text
    assert "Merci pour votre paiement." in text


def test_it_sends_refund_and_void_notices_in_german(mailoutbox):
    invoice = invoice_for("de")
    payment = pay(invoice)
    refund = emails.send_refund_email(invoice, payment, 5000)
    assert (
        refund.subject
        == f"Erstattung von 50,00{NBSP}€ für Rechnung {invoice.number} von Acme Studio"
    )
    assert "5 bis 10 Werktagen" in refund.body
    assert "5 bis 10 Werktagen" in html_part(refund)
    invoice.status = Invoice.Status.VOID
    void = emails.send_void_email(invoice)
    assert void.subject == f"Rechnung {invoice.number} von Acme Studio wurde storniert"
    assert "Sie müssen darauf nichts bezahlen." in void.body
    assert "Sie müssen darauf nichts bezahlen." in html_part(void)


def test_a_customer_without_a_language_gets_emails_in_the_business_default(mailoutbox):
    set_default_language("de")
    invoice = invoice_for("")
    message = emails.send_invoice_email(invoice)
    assert message.subject.startswith(f"Rechnung {invoice.number} von Acme Studio")
    assert message.body.startswith("Guten Tag")
    assert '<html lang="de">' in html_part(message)


def test_staff_notices_stay_english(mailoutbox):
    invoice = invoice_for("fr")
    with translation.override("fr"):  # even when sent from inside a customer's language
        message = emails.send_staff_notice(invoice, "payment_received", "Paid by card.")
    assert message.subject.startswith("Payment received: invoice")
    assert "€1,234.56" in message.body
    assert '<html lang="en' in html_part(message)


# -- PDFs ---------------------------------------------------------------------


def test_it_renders_the_invoice_pdf_in_german():
    invoice = invoice_for("de")
    text = pdf_text(documents.invoice_pdf(invoice))
    assert "RECHNUNG" in text
    assert "Fällig am 29.12.2099" in text
    assert "Rechnungsdatum 29.11.2099" in text
    assert "Zwischensumme 1.234,56 €" in text
    assert "Fälliger Betrag 1.234,56 €" in text
    assert "EINZELPREIS" in text  # column headings are upper-cased by the stylesheet
    assert "Mit Karte bezahlen unter:" in text
    assert "Seite 1 von 1" in text
    assert "Amount due" not in text


def test_it_renders_the_pdf_in_the_customers_language_for_staff_too(staff_client):
    invoice = invoice_for("fr")
    response = staff_client.get(reverse("invoices:pdf", args=[invoice.pk]))
    assert "FACTURE" in pdf_text(response.content)
    assert translation.get_language() == "en-us"


def test_it_stamps_a_paid_pdf_in_the_customers_language():
    invoice = invoice_for("de")
    payment = pay(invoice)
    text = pdf_text(documents.receipt_pdf(invoice, payment))
    assert "QUITTUNG" in text
    assert "BEZAHLT" in text
    assert "Visa •••• 4242" in text


# -- where the language is set ----------------------------------------------------


def test_staff_set_a_customers_language(staff_client):
    customer = CustomerFactory()
    data = {"name": customer.name, "email": customer.email, "language": "de"}
    staff_client.post(reverse("customers:edit", args=[customer.pk]), data)
    customer.refresh_from_db()
    assert customer.language == "de"
    data["language"] = ""
    staff_client.post(reverse("customers:edit", args=[customer.pk]), data)
    assert Customer.objects.get(pk=customer.pk).language == ""


def test_it_refuses_an_unknown_language(staff_client):
    customer = CustomerFactory()
    data = {"name": customer.name, "email": customer.email, "language": "xx"}
    response = staff_client.post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert Customer.objects.get(pk=customer.pk).language == ""


def test_superusers_set_the_business_default_language(admin_client):
    page = admin_client.get(reverse("invoices:profile")).text
    assert '<option value="fr">French</option>' in page
    # Every field as the form shows it, then the language changed.
    form = BusinessProfileForm(instance=BusinessProfile.load())
    data = {name: form[name].value() or "" for name in form.fields if name != "logo"}
    data["default_language"] = "fr"
    assert admin_client.post(reverse("invoices:profile"), data).status_code == 302
    assert BusinessProfile.load().default_language == "fr"
