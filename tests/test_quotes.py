"""Quotes: numbering, sending, the customer's answer, versions, expiry and conversion."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from invoices.models import Invoice, InvoiceSequence, Quote, QuoteActivity
from invoices.quote_answers import accept_quote
from invoices.quotes import QuoteStateError, expire_quotes, save_quote, send_quote
from tests.factories import CustomerFactory
from tests.quote_helpers import accept_post, content, make_quote

pytestmark = pytest.mark.django_db


def customer_url(quote: Quote, action: str = "") -> str:
    name = {"": "quote_pay:quote", "accept": "quote_pay:accept", "decline": "quote_pay:decline"}
    return reverse(name[action], args=[quote.token])


# -- numbering ------------------------------------------------------------------------


def test_it_numbers_quotes_in_their_own_sequence_when_sent():
    draft = make_quote(send=False)
    assert draft.number == ""
    assert draft.status == Quote.Status.DRAFT
    first, second = make_quote(), make_quote()
    assert (first.number, second.number) == ("Q-0001", "Q-0002")
    assert send_quote(quote=draft).number == "Q-0003"
    # Invoices keep theirs: nothing was taken from INV-.
    assert not InvoiceSequence.objects.filter(prefix="INV-").exists()


def test_it_keeps_the_number_when_a_quote_is_resent():
    quote = make_quote()
    assert send_quote(quote=quote).number == quote.number
    assert InvoiceSequence.objects.get(prefix="Q-").last_value == 1


def test_it_gives_the_number_back_when_sending_fails():
    make_quote()
    empty = make_quote(send=False, lines=[])
    with pytest.raises(QuoteStateError, match="at least one line"):
        send_quote(quote=empty)
    assert make_quote().number == "Q-0002"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_get_distinct_gapless_quote_numbers():
    if connection.vendor != "postgresql":
        pytest.skip("row locks across threads need PostgreSQL (CI runs this on PostgreSQL)")
    drafts = [make_quote(send=False) for _ in range(10)]
    barrier = threading.Barrier(len(drafts))
    errors: list[BaseException] = []

    def send(quote: Quote) -> None:
        try:
            barrier.wait()
            send_quote(quote=quote)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(d,)) for d in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(Quote.objects.values_list("number", flat=True))
    assert numbers == [f"Q-{n:04d}" for n in range(1, 11)]


# -- totals, deposit and versions ---------------------------------------------------------


def test_it_totals_the_lines_with_the_invoice_rounding_rule():
    quote = make_quote(deposit_kind="percent", deposit_value=Decimal("33.33"))
    assert (quote.subtotal, quote.tax, quote.total) == (20000, 1000, 21000)
    assert [line.amount for line in quote.lines.all()] == [10000, 10000]
    # 33.33% of 210.00 = 69.993 -> 69.99, half up to a whole cent.
    assert quote.deposit_amount == 6999


def test_it_takes_a_fixed_deposit_in_minor_units():
    quote = make_quote(deposit_kind="amount", deposit_value=Decimal(5000))
    assert quote.deposit_amount == 5000
    assert quote.remainder == 16000


def test_it_computes_a_zero_decimal_deposit_exactly():
    lines = [{"description": "Tea", "quantity": Decimal(3), "unit_amount": 333, "tax_rate": 0}]
    quote = make_quote(
        currency="JPY", lines=lines, deposit_kind="percent", deposit_value=Decimal("50")
    )
    assert quote.total == 999  # 499.5 yen rounds half up
    assert quote.deposit_amount == 500


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("amount", Decimal(21001), "more than the quote's total"),
        ("percent", Decimal("100.01"), "at most 100"),
        ("percent", Decimal(0), "above 0"),
        ("amount", Decimal(0), "more than zero"),
        ("amount", Decimal(49), "Card payments start at 0.50 USD"),
    ],
)
def test_it_refuses_a_deposit_it_cannot_ask(kind, value, message):
    quote = make_quote(send=False)
    with pytest.raises(QuoteStateError, match=message):
        save_quote(quote=quote, content=content(deposit_kind=kind, deposit_value=value))
    assert Quote.objects.get(pk=quote.pk).deposit_amount == 0


def test_editing_a_sent_quote_makes_a_new_version_and_unchanged_saves_do_not():
    quote = make_quote()
    assert quote.version == 1
    same = save_quote(quote=quote, content=content())
    assert same.version == 1
    assert same.content_digest == quote.content_digest
    changed = save_quote(quote=quote, content=content(memo="Now with a warranty"))
    assert changed.version == 2
    assert changed.content_digest != quote.content_digest
    assert QuoteActivity.objects.filter(quote=quote, kind="revised").count() == 1


def test_an_answered_quote_cannot_be_edited():
    quote = make_quote()
    accept_quote(
        quote=quote,
        name="Ada",
        version=1,
        content_digest=quote.content_digest,
        ip="",
        user_agent="",
    )
    with pytest.raises(QuoteStateError, match="no longer be edited"):
        save_quote(quote=quote, content=content(memo="x"))


# -- sending ----------------------------------------------------------------------------


def test_it_emails_the_link_and_the_pdf(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        quote = make_quote(deposit_kind="percent", deposit_value=Decimal(30))
    (message,) = mailoutbox
    assert message.to == [quote.customer.email]
    assert message.subject == f"Quote {quote.number} from {message.subject.split(' from ')[1]}"
    assert quote.get_absolute_customer_url() in message.body
    assert "$63.00" in message.body  # the deposit
    (name, pdf, mimetype) = message.attachments[0]
    assert name == f"{quote.number}.pdf"
    assert mimetype == "application/pdf"
    assert pdf.startswith(b"%PDF")


def test_it_refuses_to_send_a_quote_past_its_expiry():
    today = timezone.localdate()
    quote = make_quote(
        send=False, issue_date=today - timedelta(days=5), expires_on=today - timedelta(days=1)
    )
    with pytest.raises(QuoteStateError, match="expiry date has passed"):
        send_quote(quote=quote)
    assert Quote.objects.get(pk=quote.pk).status == Quote.Status.DRAFT


# -- the customer's page ------------------------------------------------------------------


def test_the_customer_reads_the_quote_and_the_view_is_recorded(client):
    quote = make_quote(customer=CustomerFactory(language="de"))
    response = client.get(customer_url(quote), HTTP_USER_AGENT="Phone")
    assert response.status_code == 200
    assert response["Content-Language"] == "de"
    assert "Angebot" in response.content.decode()
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )
    quote.refresh_from_db()
    assert quote.viewed_at is not None
    assert quote.activities.filter(kind="viewed").count() == 1


def test_a_draft_or_a_wrong_link_is_a_404(client):
    draft = make_quote(send=False)
    assert client.get(customer_url(draft)).status_code == 404
    assert client.get(reverse("quote_pay:quote", args=["nope"])).status_code == 404
    assert client.post(reverse("quote_pay:accept", args=["nope"]), {}).status_code == 404


def test_accepting_records_who_when_where_and_what(client):
    quote = make_quote()
    response = client.post(
        customer_url(quote, "accept"),
        accept_post(quote, "  Ada   Lovelace "),
        HTTP_USER_AGENT="Mozilla/5.0 Phone",
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 302
    assert response["Location"] == customer_url(quote)
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED
    assert quote.accepted_name == "Ada Lovelace"
    assert quote.accepted_ip == "203.0.113.7"
    assert quote.accepted_user_agent == "Mozilla/5.0 Phone"
    assert (quote.accepted_version, quote.accepted_digest) == (1, quote.content_digest)
    assert quote.accepted_snapshot["total"] == 21000
    assert [line["description"] for line in quote.accepted_snapshot["lines"]] == [
        "Design",
        "Build",
    ]
    assert quote.deposit_invoice is None
    page = client.get(customer_url(quote)).content.decode()
    assert "Accepted by Ada Lovelace" in page
    assert 'id="accept-form"' not in page


def test_an_accept_form_for_an_old_version_is_refused_clearly(client):
    quote = make_quote(deposit_kind="percent", deposit_value=Decimal(50))
    stale = accept_post(quote)
    save_quote(
        quote=quote,
        content=content(memo="Price changed", deposit_kind="percent", deposit_value=Decimal(50)),
    )
    response = client.post(customer_url(quote, "accept"), stale)
    assert response.status_code == 409
    assert "changed after you opened it" in response.content.decode()
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT
    assert quote.accepted_at is None
    assert not Invoice.objects.exists()
    assert not quote.activities.filter(kind="accepted").exists()
    # The page it shows is the new version, which can be accepted.
    assert client.post(customer_url(quote, "accept"), accept_post(quote)).status_code == 302


def test_an_accept_without_a_name_changes_nothing(client):
    quote = make_quote()
    response = client.post(customer_url(quote, "accept"), accept_post(quote, "   "))
    assert response.status_code == 409
    assert "Type your full name" in response.content.decode()
    assert Quote.objects.get(pk=quote.pk).status == Quote.Status.SENT


def test_declining_keeps_the_note(client):
    quote = make_quote()
    response = client.post(customer_url(quote, "decline"), {"note": "Too expensive"})
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.status == Quote.Status.DECLINED
    assert quote.decline_note == "Too expensive"
    assert client.post(customer_url(quote, "accept"), accept_post(quote)).status_code == 409


# -- expiry -------------------------------------------------------------------------------


def test_it_expires_sent_quotes_past_their_date_once():
    today = timezone.localdate()
    old = make_quote(expires_on=today)
    fresh = make_quote(expires_on=today + timedelta(days=5))
    draft = make_quote(send=False, expires_on=today)
    assert expire_quotes(today=today + timedelta(days=1)) == [old]
    assert expire_quotes(today=today + timedelta(days=1)) == []
    statuses = dict(Quote.objects.values_list("pk", "status"))
    assert statuses == {old.pk: "expired", fresh.pk: "sent", draft.pk: "draft"}


def test_a_quote_past_its_date_cannot_be_accepted_before_the_command_runs(client):
    today = timezone.localdate()
    quote = make_quote(expires_on=today)
    Quote.objects.filter(pk=quote.pk).update(
        issue_date=today - timedelta(days=5), expires_on=today - timedelta(days=1)
    )
    page = client.get(customer_url(quote)).content.decode()
    assert "This quote has expired" in page
    assert 'id="accept-form"' not in page
    response = client.post(customer_url(quote, "accept"), accept_post(quote))
    assert response.status_code == 409
    assert Quote.objects.get(pk=quote.pk).status == Quote.Status.SENT


def test_the_expire_quotes_command_runs_the_step():
    from django.core.management import call_command

    quote = make_quote(expires_on=timezone.localdate())
    Quote.objects.filter(pk=quote.pk).update(
        issue_date=timezone.localdate() - timedelta(days=9),
        expires_on=timezone.localdate() - timedelta(days=2),
    )
    call_command("expire_quotes")
    assert Quote.objects.get(pk=quote.pk).status == Quote.Status.EXPIRED


# -- converting -----------------------------------------------------------------------------


def test_converting_copies_the_lines_and_links_both_ways(client, staff_client):
    quote = make_quote(memo="Thanks", discount_kind="percent", discount=Decimal(10))
    client.post(customer_url(quote, "accept"), accept_post(quote))
    response = staff_client.post(reverse("quotes:convert", args=[quote.pk]))
    quote.refresh_from_db()
    invoice = quote.invoice
    assert response.status_code == 302
    assert response["Location"] == invoice.get_absolute_url()
    assert quote.status == Quote.Status.CONVERTED
    assert invoice.is_draft
    assert invoice.source_quote == quote
    fields = ("description", "quantity", "unit_amount", "tax_rate")
    assert list(invoice.lines.values_list(*fields)) == list(quote.lines.values_list(*fields))
    assert (invoice.total, invoice.amount_due, invoice.memo) == (quote.total, quote.total, "Thanks")
    assert quote.number in staff_client.get(invoice.get_absolute_url()).content.decode()
    assert invoice.get_absolute_url() in staff_client.get(quote.get_absolute_url()).content.decode()


def test_only_an_accepted_quote_converts(staff_client):
    quote = make_quote()
    response = staff_client.post(reverse("quotes:convert", args=[quote.pk]), follow=True)
    assert "Only an accepted quote" in response.content.decode()
    assert not Invoice.objects.exists()


def test_the_customer_downloads_the_quote_as_a_pdf_in_their_language(client):
    import io

    from pypdf import PdfReader

    quote = make_quote(customer=CustomerFactory(language="fr"))
    response = client.get(reverse("quote_pay:pdf", args=[quote.token]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"{quote.number}.pdf" in response["Content-Disposition"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "DEVIS" in text
    assert "Design" in text
    draft = make_quote(send=False)
    assert client.get(reverse("quote_pay:pdf", args=[draft.token])).status_code == 404
