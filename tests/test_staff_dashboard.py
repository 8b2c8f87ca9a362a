from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoices.models import Invoice, digest_token, new_pay_token
from invoices.services import finalize_invoice, mark_uncollectible, void_invoice
from tests.factories import CustomerFactory, InvoiceFactory, make_draft, make_open
from tests.test_keyset_paging import invoices, link, rows, walk

DASHBOARD = "/"


def bulk_invoices(count: int, **fields) -> None:
    customer = CustomerFactory()
    invoices = []
    for n in range(count):
        token = new_pay_token()
        invoices.append(
            Invoice(
                customer=customer,
                pay_token=token,
                pay_token_digest=digest_token(token),
                status=Invoice.Status.OPEN,
                number=f"BULK-{n:05d}",
                total=1000,
                amount_due=1000,
                **fields,
            )
        )
    Invoice.objects.bulk_create(invoices)


@pytest.mark.parametrize("count", [5, 500])
def test_it_lists_invoices_in_constant_queries(staff_client, django_assert_num_queries, count):
    bulk_invoices(count)
    # session, user, totals (a sum of the maintained buckets), one page of rows
    with django_assert_num_queries(4):
        response = staff_client.get(DASHBOARD)
    assert response.status_code == 200
    # the htmx swap of the results has no totals
    with django_assert_num_queries(3):
        staff_client.get(DASHBOARD, {"q": "BULK", "sort": "-total"}, HTTP_HX_REQUEST="true")


def test_it_paginates_without_counting(staff_client, db):
    bulk_invoices(30)
    first = staff_client.get(DASHBOARD, {"sort": "number"})
    assert 'rel="next"' in first.text
    assert "BULK-00024" in first.text
    assert "BULK-00025" not in first.text
    second = staff_client.get(DASHBOARD, {"sort": "number", "page": "2"})
    assert "BULK-00025" in second.text
    assert "BULK-00029" in second.text
    assert 'rel="next"' not in second.text
    assert 'rel="prev"' in second.text


def test_it_filters_by_status_tab(staff_client, db):
    draft = make_draft()
    open_invoice = make_open()
    late = make_open(issue_date=timezone.localdate() - timedelta(days=60))
    response = staff_client.get(DASHBOARD, {"status": "overdue"})
    assert f"invoice-row-{late.pk}" in response.text
    assert f"invoice-row-{open_invoice.pk}" not in response.text
    response = staff_client.get(DASHBOARD, {"status": "draft"})
    assert f"invoice-row-{draft.pk}" in response.text
    assert f"invoice-row-{open_invoice.pk}" not in response.text
    assert 'aria-current="page"' in response.text


def test_it_searches_by_number_name_and_email(staff_client, db):
    alice = make_open(customer=CustomerFactory(name="Alice", email="alice@acme.test"))
    bob = make_open(customer=CustomerFactory(name="Bob", email="bob@other.test"))
    for term in ("alice", "acme.test", alice.number):
        response = staff_client.get(DASHBOARD, {"q": term}, HTTP_HX_REQUEST="true")
        assert f"invoice-row-{alice.pk}" in response.text
        assert f"invoice-row-{bob.pk}" not in response.text
        assert "<html" not in response.text


def test_it_keeps_the_state_in_the_links(staff_client, db):
    make_open()
    response = staff_client.get(DASHBOARD, {"q": "x y", "status": "open", "sort": "total"})
    assert "?q=x+y&amp;status=open&amp;sort=-total" in response.text  # the total header flips
    assert "?q=x+y&amp;sort=total" in response.text  # the "All" tab keeps the search


def test_it_sorts_by_total(staff_client, db):
    small = make_open(lines=1, unit_amount=100)
    big = make_open(lines=1, unit_amount=900)
    text = staff_client.get(DASHBOARD, {"sort": "-total"}).text
    assert text.index(f"invoice-row-{big.pk}") < text.index(f"invoice-row-{small.pk}")
    text = staff_client.get(DASHBOARD, {"sort": "total"}).text
    assert text.index(f"invoice-row-{small.pk}") < text.index(f"invoice-row-{big.pk}")


def test_it_ignores_unknown_filters(staff_client, db):
    response = staff_client.get(DASHBOARD, {"status": "nope", "sort": "pk; drop", "page": "x"})
    assert response.status_code == 200


def test_it_totals_per_currency(staff_client, db):
    make_open(lines=1, unit_amount=10000)
    make_open(lines=1, unit_amount=2500, issue_date=timezone.localdate() - timedelta(days=60))
    make_open(lines=1, unit_amount=700, currency="JPY")
    paid = make_open(lines=1, unit_amount=4200)
    paid.add_payment(4200)
    paid.save()
    text = staff_client.get(DASHBOARD).text
    assert "$125.00" in text  # outstanding
    assert "$25.00" in text  # overdue
    assert "$42.00" in text  # paid this month
    assert "¥700" in text


def test_it_connects_to_the_live_feed(staff_client, db):
    text = staff_client.get(DASHBOARD).text
    assert 'sse-connect="/live/staff/?since=' in text


def test_it_exports_the_filtered_list_as_csv(staff_client, db):
    make_open(lines=1, unit_amount=1050, customer=CustomerFactory(name="=HYPERLINK()"))
    make_open(lines=1, unit_amount=700, currency="JPY")
    make_draft()
    response = staff_client.get(reverse("invoices:export"), {"status": "open", "sort": "total"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["currency"], r["total"]) for r in rows] == [("JPY", "700"), ("USD", "10.50")]
    assert rows[1]["customer"] == "'=HYPERLINK()"


def test_it_filters_by_customer(staff_client, db):
    mine = make_open()
    other = InvoiceFactory()
    text = staff_client.get(DASHBOARD, {"customer": mine.customer_id}).text
    assert f"invoice-row-{mine.pk}" in text
    assert f"invoice-row-{other.pk}" not in text


def test_the_totals_follow_a_payment(staff_client, django_capture_on_commit_callbacks):
    from datetime import date

    from invoices.services import record_offline_payment

    invoice = make_open(lines=1, unit_amount=10000)
    outstanding = "<dt>Outstanding</dt><dd>{}</dd>"
    assert outstanding.format("$100.00") in staff_client.get(DASHBOARD).text
    with django_capture_on_commit_callbacks(execute=True):
        record_offline_payment(
            invoice=invoice, amount=4000, method="bank_transfer", received_on=date.today()
        )
    assert outstanding.format("$60.00") in staff_client.get(DASHBOARD).text


# -- sorting by status and amount due ------------------------------------------------


def test_it_sorts_by_status_with_a_visible_indicator(staff_client, db):
    paid = make_open()
    paid.add_payment(paid.amount_due)
    paid.save()
    draft = make_draft()
    open_invoice = make_open()
    text = staff_client.get(DASHBOARD, {"sort": "status"}).text
    order = [text.index(f"invoice-row-{i.pk}") for i in (draft, open_invoice, paid)]
    assert order == sorted(order)
    assert re.search(r'<th scope="col" aria-sort="ascending">.*?Status <span', text)
    assert 'aria-hidden="true">▲</span>' in text
    assert text.count("aria-sort=") == 1
    text = staff_client.get(DASHBOARD, {"sort": "-status"}).text
    order = [text.index(f"invoice-row-{i.pk}") for i in (paid, open_invoice, draft)]
    assert order == sorted(order)
    assert 'aria-sort="descending"' in text
    assert 'aria-hidden="true">▼</span>' in text


def test_it_sorts_by_what_is_owed_now(staff_client, db):
    small = make_open(lines=1, unit_amount=100)
    big = make_open(lines=1, unit_amount=900)
    # Uncollectible keeps its unpaid balance in `amount_due` but owes nothing now.
    written_off = mark_uncollectible(invoice=make_open(lines=1, unit_amount=5000))
    text = staff_client.get(DASHBOARD, {"sort": "-amount_due"}).text
    order = [text.index(f"invoice-row-{i.pk}") for i in (big, small, written_off)]
    assert order == sorted(order)
    assert re.search(r'class="num" aria-sort="descending">.*?Amount due <span', text)
    header = re.search(r'<a href="([^"]+)"[^>]*>Amount due', text).group(1)
    assert header == "?sort=amount_due"
    text = staff_client.get(DASHBOARD, {"sort": "amount_due"}).text
    order = [text.index(f"invoice-row-{i.pk}") for i in (written_off, small, big)]
    assert order == sorted(order)


def test_every_header_keeps_its_href_beside_hx_get(staff_client, db):
    make_open()
    text = staff_client.get(DASHBOARD).text
    head = re.search(r"<thead>(.*?)</thead>", text, re.S).group(1)
    links = re.findall(r'<a href="(\?[^"]*)" hx-get="/(\?[^"]*)"', head)
    assert len(links) == 7
    assert all(href == hx for href, hx in links)


NEW_SORTS = ["?sort=status", "?sort=-status", "?sort=amount_due", "?sort=-amount_due"]


@pytest.mark.parametrize("start", NEW_SORTS)
def test_the_new_sorts_page_every_row_once(staff_client, db, start):
    invoices(60)
    # Some rows owe nothing now although `amount_due` says otherwise.
    Invoice.objects.filter(number__endswith="3").update(status=Invoice.Status.UNCOLLECTIBLE)
    forwards = walk(staff_client, "/", start, "Next →")
    backwards = walk(staff_client, "/", f"{start}&last=1", "← Previous")
    ids = [pk for page in forwards for pk in page]
    assert len(forwards) >= 3
    assert len(ids) == len(set(ids)) == 60
    assert [pk for page in reversed(backwards) for pk in page] == ids


@pytest.mark.parametrize(
    "query",
    [
        *NEW_SORTS,
        "?issued_from=2020-01-01&issued_to=2100-01-01&sort=amount_due",
        "?due_from=2020-01-01&due_to=2100-01-01&sort=-status",
    ],
)
@pytest.mark.parametrize("count", [30, 200])
def test_each_sort_and_filter_costs_the_same_queries(
    staff_client, django_assert_num_queries, query, count
):
    invoices(count)
    first = staff_client.get(DASHBOARD + query)
    pages = [query, f"{query}&{link(first.text, 'Next →').lstrip('?')}", f"{query}&last=1"]
    for page in pages:
        # session, user, totals, one page of rows
        with django_assert_num_queries(4):
            response = staff_client.get(DASHBOARD + page)
        assert response.status_code == 200
        assert rows("/", response.text)


# -- date ranges -----------------------------------------------------------------------


def dated(issued: date, due: date) -> Invoice:
    invoice = make_draft(issue_date=issued)
    invoice.terms = "custom"
    invoice.due_date = due
    invoice.save()
    return finalize_invoice(invoice=invoice)


@pytest.fixture
def spread(db):
    return {
        "jan": dated(date(2026, 1, 10), date(2026, 2, 10)),
        "mar": dated(date(2026, 3, 10), date(2026, 4, 10)),
        "jun": dated(date(2026, 6, 10), date(2026, 6, 30)),
    }


def shown(response, spread) -> set[str]:
    return {name for name, i in spread.items() if f"invoice-row-{i.pk}" in response.text}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"issued_from": "2026-03-01"}, {"mar", "jun"}),
        ({"issued_to": "2026-03-10"}, {"jan", "mar"}),
        ({"issued_from": "2026-02-01", "issued_to": "2026-05-31"}, {"mar"}),
        ({"due_from": "2026-04-10", "due_to": "2026-06-29"}, {"mar"}),
        ({"due_to": "2026-02-10", "issued_from": "2026-01-10"}, {"jan"}),
    ],
)
def test_it_filters_by_issue_and_due_dates(staff_client, spread, params, expected):
    response = staff_client.get(DASHBOARD, params)
    assert shown(response, spread) == expected
    for name, value in params.items():
        assert f'name="{name}" value="{value}"' in response.text
    # The same parameters give the same rows in the CSV export.
    export = staff_client.get(reverse("invoices:export"), params)
    numbers = {r["number"] for r in csv.DictReader(io.StringIO(csv_text(export)))}
    assert numbers == {spread[name].number for name in expected}


def test_the_dates_stay_in_every_link(staff_client, spread):
    text = staff_client.get(DASHBOARD, {"issued_from": "2026-02-01", "sort": "total"}).text
    total = re.search(r'<a href="([^"]+)"[^>]*>Total', text).group(1)
    assert html.unescape(total) == "?sort=-total&issued_from=2026-02-01"
    tab = re.search(r'<a href="([^"]+)"[^>]*>Open</a>', text).group(1)
    assert html.unescape(tab) == "?status=open&sort=total&issued_from=2026-02-01"
    export = re.search(r'href="/invoices/export\.csv(\?[^"]*)" id="export-link"', text)
    assert html.unescape(export.group(1)) == "?sort=total&issued_from=2026-02-01"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"issued_from": "2026-02-30"}, "“Issued from” must be a date written as YYYY-MM-DD"),
        ({"due_to": "99999-01-01"}, "“Due to” must be a date written as YYYY-MM-DD"),
        ({"issued_to": "\uff12\uff10\uff12\uff16-01-01"}, "“Issued to” must be a date"),
        ({"due_from": "yesterday"}, "“Due from” must be a date"),
        (
            {"issued_from": "2026-06-01", "issued_to": "2026-01-01"},
            "“Issued from” is after “Issued to”; the range was left out.",
        ),
    ],
)
def test_a_bad_date_says_why_and_filters_nothing(staff_client, spread, params, message):
    response = staff_client.get(DASHBOARD, params)
    assert response.status_code == 200
    assert message in html.unescape(response.text)
    assert 'role="alert"' in response.text
    assert shown(response, spread) == {"jan", "mar", "jun"}
    export = staff_client.get(reverse("invoices:export"), params)
    assert export.status_code == 400
    assert message in export.content.decode()


def csv_text(response) -> str:
    return b"".join(response.streaming_content).decode()


DATE_PARAMS = st.sampled_from(["issued_from", "issued_to", "due_from", "due_to"])
HOSTILE_DATES = st.one_of(
    st.sampled_from(
        [
            "9999-12-31",
            "0001-01-01",
            "0000-01-01",
            "2024-02-30",
            "2026-1-1",
            "-2026-01-01",
            "+12026-01-01",
            "2026-01-01T00:00",
            "²⁰²⁶-01-01",
            "\u0662\u0660\u0662\u0666-\u0660\u0661-\u0660\u0661",
            "2026-01-01\x00",
            "1e999999999",
            "' OR 1=1 --",
            "<script>alert(1)</script>",
        ]
    ),
    st.dates().map(date.isoformat),
    st.text(max_size=30),
)


@given(
    params=st.dictionaries(DATE_PARAMS, HOSTILE_DATES, max_size=4),
    sort=st.sampled_from(["", "status", "-amount_due", "amount_due"]),
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_it_never_fails_on_hostile_dates(staff_client, spread, params, sort):
    query = {**params, "sort": sort}
    response = staff_client.get(DASHBOARD, query)
    nul = any("\x00" in value for value in params.values())
    assert response.status_code == (400 if nul else 200)
    fragment = staff_client.get(DASHBOARD, query, HTTP_HX_REQUEST="true")
    assert fragment.status_code == (400 if nul else 200)
    export = staff_client.get(reverse("invoices:export"), query)
    assert export.status_code in (200, 400)
    if export.status_code == 200:
        csv_text(export)
    assert Invoice.objects.count() == 3
    assert "<script>alert(1)</script>" not in response.text


# -- nothing due once void or uncollectible ----------------------------------------------


def test_void_and_uncollectible_rows_show_nothing_due(staff_client, db):
    written_off = mark_uncollectible(invoice=make_open(lines=1, unit_amount=4321))
    voided = void_invoice(invoice=make_open(lines=1, unit_amount=1234))
    text = staff_client.get(DASHBOARD).text
    for invoice in (written_off, voided):
        row = re.search(rf'<tr id="invoice-row-{invoice.pk}".*?</tr>', text, re.S).group(0)
        cells = re.findall(r'<td class="num">(.*?)</td>', row)
        assert cells == [invoice.money(invoice.total), "$0.00"]
    export = staff_client.get(reverse("invoices:export"))
    owed = {r["number"]: r["amount_due"] for r in csv.DictReader(io.StringIO(csv_text(export)))}
    assert owed == {written_off.number: "0.00", voided.number: "0.00"}


def test_a_live_row_keeps_its_pick_box(db):
    from invoices.staff.live import staff_messages

    invoice = make_open()
    row = dict(staff_messages(invoice))[f"invoice-{invoice.pk}-row"]
    # The same box (by id, kept by htmx across the swap), so a pick survives a payment landing.
    box = re.search(r"<input [^>]*>", row).group(0)
    assert f'id="pick-{invoice.pk}"' in box
    assert "hx-preserve" in box
    assert 'form="bulk-form"' in box
