"""Staff hear about a customer's answer to a quote: an email queued in the answer's own
transaction (none for an answer refused or rolled back), and the quote's staff page
follows live (its stream says so; the page reloads its live region)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from invoices.models import BusinessProfile, EmailLog, Quote
from invoices.quote_answers import accept_quote, decline_quote
from invoices.quotes import QuoteStateError
from invoices.staff import quote_live
from tests.factories import CustomerFactory
from tests.quote_helpers import accept_post, make_quote

pytestmark = pytest.mark.django_db


def accept(quote: Quote, name: str = "Ada Lovelace") -> Quote:
    return accept_quote(
        quote=quote,
        name=name,
        version=quote.version,
        content_digest=quote.content_digest,
        ip="203.0.113.7",
        user_agent="Phone",
    )


def notices() -> list[EmailLog]:
    return list(EmailLog.objects.filter(kind="quote_notice"))


def test_an_acceptance_emails_staff_once_with_the_deposit(
    client, django_capture_on_commit_callbacks
):
    BusinessProfile.objects.update_or_create(pk=1, defaults={"email": "office@example.com"})
    quote = make_quote(deposit_kind="percent", deposit_value=Decimal(50))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("quote_pay:accept", args=[quote.token]), accept_post(quote))
    assert response.status_code == 302
    [row] = notices()
    assert row.status == EmailLog.Status.SENT
    [staff] = [m for m in mail.outbox if m.to == ["office@example.com"]]
    quote.refresh_from_db()
    assert staff.subject == f"Quote accepted: quote {quote.number} ({quote.customer.name})"
    assert "Accepted by Ada Lovelace" in staff.body
    assert f"Deposit invoice {quote.deposit_invoice.number} for $105.00" in staff.body
    assert quote.get_absolute_url() in staff.body
    html = staff.alternatives[0][0]
    assert "Accepted by <strong>Ada Lovelace</strong>" in html


def test_a_decline_emails_staff_the_note_as_text(django_capture_on_commit_callbacks):
    quote = make_quote(CustomerFactory(name="<b>Eve</b>"))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decline_quote(quote=quote, note='<script>alert("x")</script>', ip="127.0.0.1")
    [staff] = mail.outbox
    assert staff.subject.startswith("Quote declined: quote")
    assert 'Their note: <script>alert("x")</script>' in staff.body  # plain text part
    html = staff.alternatives[0][0]
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;b&gt;Eve&lt;/b&gt;" in html


def test_a_refused_or_rolled_back_answer_notifies_nobody(django_capture_on_commit_callbacks):
    quote = make_quote()
    with pytest.raises(QuoteStateError):
        accept_quote(
            quote=quote,
            name="Ada",
            version=quote.version + 1,
            content_digest="x",
            ip="",
            user_agent="",
        )
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        accept(quote)
        transaction.set_rollback(True)
    assert notices() == []
    assert callbacks == []  # the live push waits for a commit that never came
    with django_capture_on_commit_callbacks(execute=True):
        accept(Quote.objects.get(pk=quote.pk))
    assert len(notices()) == 1


def test_the_answer_is_pushed_to_the_quotes_page_after_commit(
    monkeypatch, django_capture_on_commit_callbacks
):
    sent: list[tuple[str, int]] = []
    monkeypatch.setattr(quote_live, "changed", lambda *note: sent.append(note))
    quote = make_quote()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        decline_quote(quote=quote, note="", ip="127.0.0.1")
    assert sent == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert sent == [("quote", quote.pk)]  # one note; the page's process renders it
    [(event, html)] = quote_live.changed_status(quote.pk)
    assert (quote_live.FOLLOWER.channel(quote.pk), event) == (f"quote:{quote.pk}", "quote-status")
    assert 'id="quote-status"' in html
    assert "Declined" in html


def test_a_failing_push_fails_neither_the_answer_nor_the_notice(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    def down(*args: object) -> None:
        raise ConnectionError("redis down")

    monkeypatch.setattr(quote_live, "changed", down)
    quote = make_quote()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("quote_pay:accept", args=[quote.token]), accept_post(quote))
    assert response.status_code == 302
    assert Quote.objects.get(pk=quote.pk).status == Quote.Status.ACCEPTED
    assert len(notices()) == 1


def test_the_staff_page_reloads_its_live_region_from_the_quote_stream(staff_client):
    quote = make_quote()
    html = staff_client.get(quote.get_absolute_url()).content.decode()
    assert f'sse-connect="{reverse("live_quote", args=[quote.pk])}?since=' in html
    assert 'hx-trigger="sse:quote-status"' in html
    decline_quote(quote=quote, note="No thanks", ip="127.0.0.1")
    fragment = staff_client.get(
        quote.get_absolute_url(), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="quote-live"
    ).content.decode()
    assert fragment.lstrip().startswith('<div id="quote-live"')
    assert "Declined" in fragment
    assert "No thanks" in fragment
    assert "sse-connect" not in fragment


def test_a_page_that_connects_late_is_told_of_an_answer_it_missed():
    quote = make_quote()
    rendered = int(time.time() * 1_000_000) - 60_000_000  # a minute ago
    decline_quote(quote=quote, note="", ip="127.0.0.1")
    [message] = quote_live._changed_since(quote.pk, rendered)
    assert message.event == "quote-status"
    assert "Declined" in message.html
    assert quote_live._changed_since(quote.pk, int(time.time() * 1_000_000) + 60_000_000) == []
    assert quote_live._changed_since(quote.pk, None) == []


def test_the_quote_stream_is_for_staff_only(client, stranger_client):
    quote = make_quote()
    url = reverse("live_quote", args=[quote.pk])
    assert client.get(url).status_code == 302
    assert stranger_client.get(url).status_code == 403
