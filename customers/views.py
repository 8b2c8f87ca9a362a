"""Staff pages for customers."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.db.models import CharField, ProtectedError, Sum
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from customers.forms import CustomerForm
from customers.models import Customer
from invoices.listing import balances
from invoices.models import CustomerCredit
from invoices.staff import customer_accounts as accounts
from invoices.staff import ledger
from invoices.staff.live import since_token
from invoices.staff.saved_methods import saved_methods_context
from portal import once
from portal.access import staff_required
from portal.htmx import done, render_page
from portal.keyset import numbered_page, page_links, paginate, read_position
from portal.params import MAX_PAGE, query_int, query_text
from portal.timezones import business_today

PAGE_SIZE = 50
# The list's order (Customer.Meta.ordering) as keys a page link can continue from.
BY_NAME = ("name_key", "id")


@require_safe
@staff_required
def customer_list(request: HttpRequest) -> HttpResponse:
    q = query_text(request.GET, "q")
    archived = request.GET.get("archived") == "1"
    number = query_int(request.GET, "page", default=1, maximum=MAX_PAGE, lenient=True) or 1
    sort, today = accounts.read_sort(request.GET), business_today()
    position = read_position(request.GET, Customer, BY_NAME, {"name_key": CharField()})
    customers = Customer.objects.search(q).annotate(name_key=Lower("name"))
    customers = customers.filter(archived_at__isnull=False) if archived else customers.active()
    currency = accounts.read_currency(request.GET)
    in_currency = accounts.sort_currency(currency)
    customers = accounts.annotate_figures(customers, today, in_currency)
    filters = {
        key: value
        for key, value in (
            ("q", q),
            ("archived", "1" if archived else ""),
            ("sort", sort),
            ("currency", currency),
        )
        if value
    }
    if sort not in ("", "name"):
        # Sorted by a figure: bounded numbered pages (no keyset over an aggregate).
        page, links = accounts.numbered(customers, sort, number, PAGE_SIZE, filters)
    else:
        if number > 1 and not position.direction:  # an old `?page=N` link
            page = numbered_page(customers, BY_NAME, number, PAGE_SIZE)
        else:
            page = paginate(customers, BY_NAME, position, PAGE_SIZE)
        links = page_links(filters, page)
    owed = accounts.balances_of((c.pk for c in page.items), today, currency)
    for customer in page.items:
        customer.owed = owed.get(customer.pk, [])
    context = {
        "customers": page.items,
        "q": q,
        "archived": archived,
        "page": page,
        "links": links,
        "sort": sort,
        "sort_links": _sort_links(q, archived, sort, currency),
        "currency": currency,
        "sort_currency": in_currency,
        "currencies": accounts.CURRENCIES,
        "export_query": urlencode(filters),
    }
    return render_page(request, "customers/list.html", context, fragment="results")


def _sort_links(q: str, archived: bool, sort: str, currency: str = "") -> dict[str, str]:
    """Each column header's link: ascending first, then descending."""
    base = {"q": q, "archived": "1" if archived else "", "currency": currency}
    links = {}
    for key in accounts.SORTS:
        query = QueryDict(mutable=True)
        query.update({k: v for k, v in base.items() if v})
        query["sort"] = f"-{key}" if sort == key else key
        links[key] = f"?{query.urlencode()}"
    return links


@require_safe
@staff_required
def customer_pick(request: HttpRequest) -> HttpResponse:
    """The invoice editor's customer search: a <select> of matching active customers."""
    q = query_text(request.GET, "customer_q")
    customers = list(Customer.objects.active().search(q)[:50])
    return render(
        request,
        "customers/_pick.html",
        {"customers": customers, "selected": request.GET.get("customer", ""), "q": q},
    )


@require_safe
@staff_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    invoices = customer.invoices.select_related("customer")
    context = {
        "customer": customer,
        "invoices": list(invoices[:20]),
        "balances": balances(customer.invoices.all()),
        "payments": ledger.page_of(ledger.LedgerFilter(customer_id=customer.pk), size=20),
        "credits": list(
            CustomerCredit.objects.filter(customer=customer)
            .values("currency")
            .annotate(total=Sum("amount"))
            .filter(total__gt=0)
            .order_by("currency")
        ),
        "live_since": since_token(),
        **saved_methods_context(customer.pk),
    }
    return render(request, "customers/detail.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def customer_create(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                claimed = once.claim(request)
                customer = form.save()
                once.done(claimed, customer.get_absolute_url())
        except once.AlreadySubmitted as first:
            messages.info(request, "That form was already sent: the customer was added once.")
            return redirect(first.url or reverse("customers:list"))
        messages.success(request, f"Customer {customer.name} added.")
        return redirect(customer)
    return render(request, "customers/form.html", {"form": form, "customer": None})


@require_http_methods(["GET", "POST"])
@staff_required
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    form = CustomerForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Customer saved.")
        return redirect(customer)
    return render(request, "customers/form.html", {"form": form, "customer": customer})


@require_POST
@staff_required
def customer_archive(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    if not customer.is_archived:
        customer.archive()
    messages.success(request, f"{customer.name} is archived: hidden from lists and new invoices.")
    return done(request, customer.get_absolute_url())


@require_POST
@staff_required
def customer_restore(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    if customer.is_archived:
        customer.restore()
    messages.success(request, f"{customer.name} is restored.")
    return done(request, customer.get_absolute_url())


@require_http_methods(["GET", "POST"])
@staff_required
def customer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    has_invoices = customer.invoices.exists()
    if request.method == "POST" and not has_invoices:
        try:
            customer.delete()
        except ProtectedError:  # an invoice arrived since the check
            has_invoices = True
        else:
            messages.success(request, f"Customer {customer.name} deleted.")
            return done(request, reverse("customers:list"))
    status = 409 if request.method == "POST" else 200
    if request.method == "POST":
        messages.error(request, "A customer with invoices cannot be deleted: archive it instead.")
    return render(
        request,
        "customers/delete.html",
        {"customer": customer, "has_invoices": has_invoices},
        status=status,
    )
