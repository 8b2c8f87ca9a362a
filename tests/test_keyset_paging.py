"""Every staff list pages by keyset (portal/keyset.py): walking Next from the first
page or Previous from the last visits every row once, in order; any page, the last
included, costs the same queries; a broken page link is a clear 400."""

from __future__ import annotations

import base64
import html
import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import Customer
from invoices.models import Invoice, StripeEvent, digest_token, new_pay_token
from tests.factories import CustomerFactory

ROW = {
    "/": r'id="invoice-row-(\d+)"',
    "/customers/": r'<a href="/customers/(\d+)/">',
    "/webhook-events/": r'<tr id="event-(\d+)">',
}


def invoices(count: int) -> None:
    customers = [CustomerFactory(name=name) for name in ("Ann", "bob", "Cy")]
    start = timezone.now()
    rows = []
    for n in range(count):
        token = new_pay_token()
        rows.append(
            Invoice(
                customer=customers[n % 3],
                pay_token=token,
                pay_token_digest=digest_token(token),
                status=Invoice.Status.OPEN if n % 4 else Invoice.Status.PAID,
                number=f"K-{n:05d}",
                total=1000 * (n % 7),  # ties: only the id tells them apart
                amount_due=1000,
                due_date=timezone.localdate() + timedelta(days=n % 5),
            )
        )
    saved = Invoice.objects.bulk_create(rows)
    # Equal creation times in pairs, so the id must break the tie.
    for n, invoice in enumerate(saved):
        Invoice.objects.filter(pk=invoice.pk).update(created_at=start - timedelta(hours=n // 2))


def customers(count: int) -> None:
    Customer.objects.bulk_create(
        Customer(name=["alice", "Alice", "Bob"][n % 3], email=f"c{n}@example.com")
        for n in range(count)
    )


def events(count: int) -> None:
    created = StripeEvent.objects.bulk_create(
        StripeEvent(event_id=f"evt_{n}", type="charge.refunded", payload={}) for n in range(count)
    )
    now = timezone.now()
    for n, event in enumerate(created):
        StripeEvent.objects.filter(pk=event.pk).update(received_at=now - timedelta(minutes=n // 3))


def rows(url: str, text: str) -> list[int]:
    return [int(pk) for pk in re.findall(ROW[url.split("?")[0]], text)]


def link(text: str, label: str) -> str | None:
    found = re.search(rf'<a href="(\?[^"]*)"[^>]*>{re.escape(label)}</a>', text)
    return html.unescape(found.group(1)) if found else None


def walk(client, url: str, start: str, step: str) -> list[list[int]]:
    pages = []
    query: str | None = start
    while query is not None:
        response = client.get(url + query)
        assert response.status_code == 200
        pages.append(rows(url, response.text))
        query = link(response.text, step)
        assert len(pages) < 50
    return pages


LISTS = [
    ("/", "", invoices, 60, lambda: list(Invoice.objects.values_list("pk", flat=True))),
    ("/", "?sort=-total", invoices, 60, None),
    ("/", "?sort=customer&status=open", invoices, 90, None),
    ("/", "?sort=due_date&q=K-", invoices, 60, None),
    (
        "/customers/",
        "",
        customers,
        120,
        lambda: list(Customer.objects.values_list("pk", flat=True)),
    ),
    ("/webhook-events/", "", events, 120, None),
]


@pytest.mark.parametrize(("url", "filters", "make", "count", "expected"), LISTS)
def test_it_visits_every_row_once_forwards_and_backwards(
    staff_client, url, filters, make, count, expected
):
    make(count)
    forwards = walk(staff_client, url, filters or "?", "Next →")
    last = (filters + "&" if filters else "?") + "last=1"
    backwards = walk(staff_client, url, last, "← Previous")
    ids = [pk for page in forwards for pk in page]
    assert len(forwards) >= 3
    assert len(ids) == len(set(ids))
    assert [pk for page in reversed(backwards) for pk in page] == ids
    if expected is not None:
        assert ids == expected()


# session, user, the page's rows (and the dashboard's totals; the customers' default
# currency and their balances per currency).
@pytest.mark.parametrize(
    ("url", "queries"),
    [("/", 4), ("/?status=open", 4), ("/customers/", 5), ("/webhook-events/", 3)],
)
@pytest.mark.parametrize("count", [130, 400])
def test_any_page_costs_the_same_queries(
    staff_client, django_assert_num_queries, url, queries, count
):
    invoices(count)
    customers(count)
    events(count)
    first = staff_client.get(url)
    joiner = "&" if "?" in url else "?"
    pages = [url, url + joiner + link(first.text, "Next →").lstrip("?"), url + joiner + "last=1"]
    for page in pages:
        with django_assert_num_queries(queries):
            response = staff_client.get(page)
        assert response.status_code == 200
        assert rows(url, response.text)


def token(values: object) -> str:
    raw = json.dumps(values).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BROKEN = [
    "not a token!",
    "%%%",
    token([1]),
    token(["2026-01-01T00:00:00+00:00", 1, 2]),
    token(["2026-01-01T00:00:00+00:00", 2**70]),
    token(["2026-01-01T00:00:00+00:00", True]),
    token([None, 1]),
    token([["a"], 1]),
    token({"a": 1}),
]
BAD_TIMES = [token(["yesterday", 1]), token(["2026-01-01T00:00:00", 1])]  # the 2nd: no zone


@pytest.mark.parametrize(
    ("url", "after"),
    [(url, after) for url in ("/", "/customers/", "/webhook-events/") for after in BROKEN]
    + [(url, after) for url in ("/", "/webhook-events/") for after in BAD_TIMES],
)
def test_a_broken_page_link_is_a_clear_400(staff_client, url, after):
    response = staff_client.get(url, {"after": after})
    assert response.status_code == 400
    response = staff_client.get(url, {"before": after})
    assert response.status_code == 400


def test_an_old_numbered_page_link_still_works(staff_client, db):
    customers(120)
    first = rows("/customers/", staff_client.get("/customers/").text)
    second = staff_client.get("/customers/", {"page": "2"})
    assert rows("/customers/", second.text)[0] not in first
    following = link(second.text, "Next →")
    third = rows("/customers/", staff_client.get("/customers/" + following).text)
    assert len(third) == 20


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    url=st.sampled_from(
        ["/", "/?sort=-total", "/?sort=customer", "/customers/", "/webhook-events/"]
    ),
    direction=st.sampled_from(["after", "before"]),
    values=st.lists(json_values, min_size=1, max_size=3) | json_values,
)
def test_any_decodable_token_is_a_page_or_a_400(staff_client, url, direction, values):
    joiner = "&" if "?" in url else "?"
    response = staff_client.get(f"{url}{joiner}{direction}={token(values)}")
    assert response.status_code in (200, 400)
