"""Staff quote pages: the list, a new draft, the editor (the invoice editor's rules),
the quote's page with its trail, send and convert; strangers refused; hostile text."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from invoices.documents.quotes import quote_pdf, send_quote_email
from invoices.models import Invoice, Quote
from tests.factories import CustomerFactory, StaffFactory
from tests.quote_helpers import accept_post, make_quote

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
HTMX = '<div hx-post="/x" hx-trigger="load">htmx</div>'


def editor_post(**overrides: str) -> dict[str, str]:
    data = {
        "currency": "USD",
        "issue_date": "2026-11-01",
        "terms": "net_30",
        "due_date": "",
        "due_mode": "auto",
        "discount_kind": "",
        "discount_value": "",
        "memo": "",
        "footer": "",
        "expires_on": "2026-12-31",
        "deposit_kind": "percent",
        "deposit_value": "25",
        "line-count": "2",
        "line-0-id": "",
        "line-0-description": "Design",
        "line-0-quantity": "2",
        "line-0-unit_price": "50.00",
        "line-0-tax_rate": "10",
        "line-1-id": "",
        "line-1-description": "Build",
        "line-1-quantity": "1",
        "line-1-unit_price": "100",
        "line-1-tax_rate": "",
    }
    data.update(overrides)
    return data


def test_staff_create_a_draft_and_edit_it_in_the_editor(staff_client):
    customer = CustomerFactory()
    response = staff_client.post(
        reverse("quotes:new"), {"customer": customer.pk, "currency": "EUR"}
    )
    quote = Quote.objects.get()
    assert response["Location"] == reverse("quotes:edit", args=[quote.pk])
    assert quote.activities.filter(kind="created").exists()
    page = staff_client.get(response["Location"]).content.decode()
    assert 'name="line-count"' in page
    assert 'name="deposit_kind"' in page
    response = staff_client.post(reverse("quotes:edit", args=[quote.pk]), editor_post())
    assert response.status_code == 302
    quote.refresh_from_db()
    assert (quote.total, quote.deposit_amount) == (21000, 5250)
    assert str(quote.expires_on) == "2026-12-31"
    assert [line.description for line in quote.lines.all()] == ["Design", "Build"]


def test_the_editor_adds_and_removes_rows_with_the_invoice_editors_buttons(staff_client):
    """The line buttons post to the quote's own addresses (tests/test_quote_editor.py)."""
    quote = make_quote(send=False)
    added = staff_client.post(reverse("quotes:add_line", args=[quote.pk]), editor_post())
    assert added.status_code == 200
    assert 'name="line-2-description"' in added.content.decode()
    removed = staff_client.post(
        reverse("quotes:remove_line", args=[quote.pk, 0]), editor_post(), HTTP_HX_REQUEST="true"
    )
    html = removed.content.decode()
    assert "Design</textarea>" not in html
    assert "Build</textarea>" in html
    assert 'name="undo-description" value="Design"' in html  # and it can be undone
    assert [line.description for line in quote.lines.all()] == ["Build"]  # a draft saves


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("deposit_value", "300", "more than the quote"),
        ("deposit_value", "0", "A deposit percentage is above 0"),
        ("deposit_value", "0.001", "Enter a percentage"),
        ("deposit_value", "abc", "Enter a percentage"),
        ("expires_on", "2026-10-01", "cannot expire before its issue date"),
        ("expires_on", "9999-12-31", "Enter a date between"),
        ("line-0-unit_price", "1e999999999", "largest amount"),
        ("terms", "custom", "a custom due date is set on the invoice"),
    ],
)
def test_the_editor_refuses_bad_values_and_saves_nothing(staff_client, field, value, message):
    quote = make_quote(send=False)
    before = (quote.total, quote.deposit_amount, quote.expires_on, quote.content_digest)
    overrides = {field: value}
    if field == "deposit_value" and value == "300":
        overrides["deposit_kind"] = "amount"
    response = staff_client.post(reverse("quotes:edit", args=[quote.pk]), editor_post(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    quote.refresh_from_db()
    assert (quote.total, quote.deposit_amount, quote.expires_on, quote.content_digest) == before


def test_the_editor_refuses_tampered_rows(staff_client):
    quote = make_quote(send=False)
    response = staff_client.post(
        reverse("quotes:edit", args=[quote.pk]), editor_post(**{"line-count": "5"})
    )
    assert response.status_code == 400
    assert quote.lines.count() == 2


def test_an_answered_quote_is_not_editable(client, staff_client):
    quote = make_quote()
    client.post(reverse("quote_pay:accept", args=[quote.token]), accept_post(quote))
    response = staff_client.post(reverse("quotes:edit", args=[quote.pk]), editor_post())
    assert response.status_code == 302
    assert Quote.objects.get(pk=quote.pk).total == 21000
    assert staff_client.get(reverse("quotes:edit", args=[quote.pk])).status_code == 302


def test_staff_send_from_the_quote_page_and_see_the_trail(
    staff_client, mailoutbox, django_capture_on_commit_callbacks
):
    quote = make_quote(send=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("quotes:send", args=[quote.pk]), follow=True)
    page = response.content.decode()
    assert "Q-0001 sent to" in page
    assert "Awaiting answer" in page
    assert "Sent to" in page  # the trail
    assert len(mailoutbox) == 1


def test_the_list_filters_by_status_with_constant_queries(
    staff_client, django_assert_max_num_queries
):
    make_quote()
    declined = make_quote()
    Quote.objects.filter(pk=declined.pk).update(status="declined")
    make_quote(send=False)
    page = staff_client.get(reverse("quotes:list") + "?status=declined").content.decode()
    assert declined.number in page
    assert "Q-0001" not in page
    for _ in range(5):
        make_quote()
    with django_assert_max_num_queries(8):
        assert staff_client.get(reverse("quotes:list")).status_code == 200


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("list", "get"),
        ("new", "get"),
        ("new", "post"),
        ("detail", "get"),
        ("edit", "get"),
        ("edit", "post"),
        ("send", "post"),
        ("convert", "post"),
        ("pdf", "get"),
    ],
)
def test_a_stranger_is_refused(stranger_client, client, name, method):
    quote = make_quote(send=False)
    args = [] if name in ("list", "new") else [quote.pk]
    url = reverse(f"quotes:{name}", args=args)
    data = editor_post() if method == "post" else None
    assert getattr(stranger_client, method)(url, data).status_code == 403
    assert getattr(client, method)(url).status_code == 302
    quote.refresh_from_db()
    assert quote.status == Quote.Status.DRAFT
    assert quote.number == ""
    assert Quote.objects.count() == 1


def hostile_quote(client) -> Quote:
    customer = CustomerFactory(name="Cust " + SCRIPT + HTMX)
    lines = [
        {
            "description": "Line " + SCRIPT + HTMX,
            "quantity": Decimal(1),
            "unit_amount": 10000,
            "tax_rate": Decimal(0),
        }
    ]
    quote = make_quote(customer, lines=lines, memo="Memo " + SCRIPT)
    client.post(
        reverse("quote_pay:accept", args=[quote.token]),
        accept_post(quote, "Name " + SCRIPT + HTMX),
        HTTP_USER_AGENT="UA " + SCRIPT,
    )
    return Quote.objects.get(pk=quote.pk)


def test_hostile_names_and_notes_are_text_in_every_page(client, staff_client):
    quote = hostile_quote(client)
    declined = make_quote(quote.customer)
    client.post(reverse("quote_pay:decline", args=[declined.token]), {"note": "No " + HTMX})
    pages = [
        staff_client.get(reverse("quotes:detail", args=[quote.pk])),
        staff_client.get(reverse("quotes:detail", args=[declined.pk])),
        staff_client.get(reverse("quotes:list")),
        client.get(reverse("quote_pay:quote", args=[quote.token])),
        client.get(reverse("quote_pay:quote", args=[declined.token])),
    ]
    for response in pages:
        html = response.content.decode()
        assert "<script>alert" not in html
        assert '<div hx-post="/x"' not in html
    detail = pages[0].content.decode()
    assert "Name &lt;script&gt;alert(1)&lt;/script&gt;" in detail
    assert "UA &lt;script&gt;" in detail
    assert "No &lt;div hx-post=&quot;/x&quot;" in pages[1].content.decode()


def test_hostile_text_is_text_in_the_email_and_the_pdf(client):
    quote = hostile_quote(client)
    message = send_quote_email(quote)
    html = message.alternatives[0][0]
    assert "<script>alert" not in html
    assert "Memo &lt;script&gt;" in html
    assert "Memo " + SCRIPT in message.body  # plain text: as written
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(quote_pdf(quote))).pages)
    squeezed = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", "Line " + SCRIPT) in squeezed
    assert re.sub(r"\s+", "", "Name " + SCRIPT) in squeezed
    assert mail.outbox  # sent through the test backend


def test_converted_quote_and_invoice_link_to_each_other(client, staff_client):
    quote = make_quote()
    client.post(reverse("quote_pay:accept", args=[quote.token]), accept_post(quote))
    staff_client.post(reverse("quotes:convert", args=[quote.pk]))
    invoice = Invoice.objects.get()
    quote_page = staff_client.get(reverse("quotes:detail", args=[quote.pk])).content.decode()
    assert f'href="{invoice.get_absolute_url()}"' in quote_page
    assert "Converted to an invoice" in quote_page
    invoice_page = staff_client.get(invoice.get_absolute_url()).content.decode()
    assert f'href="{quote.get_absolute_url()}"' in invoice_page
    assert "From quote" in invoice_page


def test_the_admin_shows_quotes_read_only_without_their_secret(client):
    admin_client = client
    admin_client.force_login(StaffFactory(is_superuser=True))
    quote = make_quote()
    change = reverse("admin:invoices_quote_change", args=[quote.pk])
    page = admin_client.get(change)
    assert page.status_code == 200
    assert quote.token not in page.content.decode()
    before = Quote.objects.filter(pk=quote.pk).values().get()
    assert admin_client.post(change, {"total": "1"}).status_code == 403
    assert admin_client.get(reverse("admin:invoices_quote_add")).status_code == 403
    assert Quote.objects.filter(pk=quote.pk).values().get() == before


@pytest.mark.parametrize("size", [1, 25])
def test_the_quote_pages_take_the_same_queries_for_one_line_or_many(
    client, staff_client, django_assert_num_queries, size
):
    lines = [
        {"description": f"L{n}", "quantity": Decimal(1), "unit_amount": 100, "tax_rate": 0}
        for n in range(size)
    ]
    quote = make_quote(lines=lines)
    client.get(reverse("quote_pay:quote", args=[quote.token]))  # the first view is recorded
    # The business profile, the quote (with customer and deposit invoice), its lines.
    with django_assert_num_queries(3):
        assert client.get(reverse("quote_pay:quote", args=[quote.token])).status_code == 200
    # The session and user, the quote with its invoices, lines, trail.
    with django_assert_num_queries(5):
        assert staff_client.get(reverse("quotes:detail", args=[quote.pk])).status_code == 200


def test_a_named_tax_rate_carries_from_the_quote_editor_to_the_invoice(client, staff_client):
    from invoices.models import TaxRate

    rate = TaxRate.objects.create(name="Sales tax CA 7.25%", percent=Decimal("7.25"))
    quote = make_quote(send=False)
    post = editor_post(**{"line-0-named_tax": str(rate.pk), "line-0-tax_rate": "99"})
    assert staff_client.post(reverse("quotes:edit", args=[quote.pk]), post).status_code == 302
    line = quote.lines.get(description="Design")
    assert (line.tax_name, line.named_tax_id, line.tax_rate) == (
        rate.name,
        rate.pk,
        Decimal("7.25"),
    )
    assert line.amount == 10000
    quote.refresh_from_db()
    assert quote.tax == 725  # 7.25% of 100.00, the typed 99 ignored for the named rate
    staff_client.post(reverse("quotes:send", args=[quote.pk]))
    quote.refresh_from_db()
    client.post(reverse("quote_pay:accept", args=[quote.token]), accept_post(quote))
    staff_client.post(reverse("quotes:convert", args=[quote.pk]))
    quote.refresh_from_db()
    invoice_line = quote.invoice.lines.get(description="Design")
    assert (invoice_line.tax_name, invoice_line.named_tax_id) == (rate.name, rate.pk)
