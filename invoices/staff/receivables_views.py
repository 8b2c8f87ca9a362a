"""Receivables at a glance: the aging report and invoiced vs collected, as charts and tables."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from invoices.staff.charts import bar_chart
from invoices.staff.receivables import BUCKETS, aging, monthly
from portal.access import staff_required
from portal.timezones import business_today


@require_safe
@staff_required
def receivables(request: HttpRequest) -> HttpResponse:
    today = business_today()
    report = aging(today)
    labels = [label for _, label in BUCKETS]
    aging_charts = [
        (
            row,
            bar_chart(
                title=f"Amounts due in {row.currency} by days past due",
                labels=labels,
                series=[("Due", list(row.amounts))],
                currency=row.currency,
            ),
        )
        for row in report.totals
    ]
    months = monthly(today)
    month_charts = [
        (
            currency,
            rows,
            bar_chart(
                title=f"Invoiced and collected in {currency}, last 12 months",
                labels=[m.start.strftime("%b %y") for m in rows],
                series=[
                    ("Invoiced", [m.invoiced for m in rows]),
                    ("Collected", [m.collected for m in rows]),
                ],
                currency=currency,
                show_values=False,
            ),
        )
        for currency, rows in months.items()
    ]
    context = {
        "today": today,
        "report": report,
        "buckets": labels,
        "aging_charts": aging_charts,
        "month_charts": month_charts,
    }
    return render(request, "invoices/receivables.html", context)
