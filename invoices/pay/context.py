"""What the customer's pages render: shared by the pay views and the live push.

The page has several regions that depend on the invoice's state (the status badge, the
headline, the totals, the payment box, the download / receipt link). They are all rendered
from the one context built here (`pay_status_context`), by the one template
`pay/_state.html`, so a live update replaces them together and the page never
contradicts itself.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime
from functools import partial
from typing import Any

from django.urls import reverse

from invoices.models import BusinessProfile, Invoice, InvoiceLine, Payment
from invoices.quote_records import deposit_deduction
from invoices.states import DEFAULT_BRAND_COLOR
from portal.timezones import business_today

# How the page waits for our webhook after Stripe's success redirect: polls this many
# times, POLL_SECONDS apart, then asks Stripe itself (`?check=1`) on the remaining polls.
POLL_SECONDS = 2
POLLS_BEFORE_CHECK = 4
MAX_POLLS = 7
BRAND_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def state_name(invoice: Invoice, *, recording: bool = False) -> str:
    """One word for what the customer sees: every region reads this, never its own guess."""
    if invoice.status != Invoice.Status.OPEN:
        return invoice.status  # paid, void, uncollectible
    if recording:
        # Stripe said the payment succeeded; our books wait for its webhook.
        return "recording"
    if invoice.payment_state == Invoice.PaymentState.PROCESSING:
        return "processing"
    if invoice.payment_state == Invoice.PaymentState.VERIFYING:
        return "verifying"
    return "open"


def pay_status_context(
    invoice: Invoice,
    *,
    live: bool = False,
    recording_intent: str = "",
    poll: int = 0,
    check_failed: bool = False,
) -> dict[str, Any]:
    if recording_intent and _on_the_books(invoice, recording_intent):
        recording_intent = ""  # a part payment already recorded: the invoice is open again
    state = state_name(invoice, recording=bool(recording_intent))
    receipt = None
    refund_pending = 0
    if state == "paid":
        # One read for the receipt and for what is asked back but not yet sent (a bank
        # refund takes days): that is on its way, not refunded.
        succeeded = list(
            invoice.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-updated_at", "-id")
        )
        receipt = succeeded[0] if succeeded else None
        refund_pending = sum(payment.amount_refund_pending for payment in succeeded)
    refused = invoice.payment_refusal
    credit_notes = list(invoice.credit_notes.all()) if invoice.amount_credited else []
    # A final invoice from a quote deducts its paid deposit (only credited ones ask).
    deposit_paid = deposit_deduction(invoice.pk) if invoice.amount_credited else None
    deposit = deposit_paid[1] if deposit_paid else 0
    return {
        "invoice": invoice,
        "deposit_paid": deposit_paid,
        "state": state,
        # Only a credited invoice has credit notes: the others spend no query on them.
        "credit_notes": credit_notes,
        # What is credited beyond its own credit notes came from the customer's account.
        "credit_applied": invoice.amount_credited - sum(n.amount for n in credit_notes) - deposit,
        "receipt": receipt,
        "refund_pending": refund_pending,
        "can_pay": refused is None and state == "open",
        # Shown on the page only when it is the reason (not a status that says more).
        "below_minimum": refused if refused and refused == invoice.below_minimum else "",
        "live": live,
        "recording_intent": recording_intent if state == "recording" else "",
        "next_poll": _next_poll(invoice, state, poll),
        "check_failed": check_failed,
        "poll_seconds": POLL_SECONDS,
        "verification": _verification(invoice) if state == "verifying" else None,
    }


def _verification(invoice: Invoice) -> Payment | None:
    """The payment waiting for the customer to confirm microdeposits (its Stripe page)."""
    return (
        invoice.payments.filter(stripe_payment_intent_id=invoice.stripe_payment_intent_id)
        .exclude(verification_url="")
        .first()
    )


def _on_the_books(invoice: Invoice, intent_id: str) -> bool:
    if invoice.status != Invoice.Status.OPEN:
        return False  # the status says it all; no query
    return invoice.payments.filter(
        stripe_payment_intent_id=intent_id, status=Payment.Status.SUCCEEDED
    ).exists()


def _next_poll(invoice: Invoice, state: str, poll: int) -> str:
    """The URL the "being recorded" state asks next, or "" once the wait is over."""
    if state != "recording" or poll >= MAX_POLLS:
        return ""
    url = reverse("pay:state", args=[invoice.pay_token])
    following = poll + 1
    check = "&check=1" if following > POLLS_BEFORE_CHECK else ""
    return f"{url}?payment_intent={invoice.stripe_payment_intent_id}&poll={following}{check}"


def brand_css(color: str) -> str:
    """The business's colour as CSS custom properties (inline styles are refused by the CSP)."""
    if not BRAND_COLOR.fullmatch(color):
        color = DEFAULT_BRAND_COLOR  # the form validates it; a row written otherwise may not be
    return f":root{{--brand:{color};--brand-ink:{readable_ink(color)}}}\n"


def brand_version(color: str) -> str:
    return hashlib.sha256(color.encode()).hexdigest()[:10]


def readable_ink(color: str) -> str:
    """White or near-black text on the colour, whichever contrasts better (WCAG luminance)."""
    try:
        channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    except ValueError:
        return "#ffffff"
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    on_white = 1.05 / (luminance + 0.05)
    on_black = (luminance + 0.05) / 0.05
    return "#ffffff" if on_white >= on_black else "#111111"


def kept_state_version(status: dict[str, Any], version: Hashable) -> Hashable | None:
    """What the page's state regions may be kept under, beside the page's `version` (its
    rows): only an open invoice with nothing credited reads nothing else but the day (due
    or overdue). Every other state renders on each view: a paid one reads its payments, a
    credited one its notes, "being recorded" the request."""
    if status["state"] != "open" or status["invoice"].amount_credited:
        return None
    return (version, business_today())


def pay_page_context(
    invoice: Invoice, business: BusinessProfile | None = None, **state: Any
) -> dict[str, Any]:
    business = business or BusinessProfile.load()
    color = business.brand_color or DEFAULT_BRAND_COLOR
    status = pay_status_context(invoice, **state)
    return {
        **status,
        "business": business,
        "brand_version": brand_version(color),
        # Called by the template only when it renders the lines (not when it reuses them).
        "lines": partial(invoice_lines, invoice),
        # The bank debits offered besides cards (the PaymentIntent asks for the same).
        "debits": business.payment_method_types(invoice.currency)[1:],
    }


# -- the lines of finalized invoices, kept in memory --------------------------------
#
# A finalized invoice's lines never change (only drafts are edited), yet the pay page is
# read many times per invoice: each process keeps the lines of the invoices it served
# last, keyed by the invoice's version (`updated_at`), so any change at all to the
# invoice is a fresh read. The key holds the random pay token too: a row id alone can
# name another invoice after a restore (or a rolled-back test).

LINES_KEPT = 512
_lines: OrderedDict[tuple[int, str, datetime], list[InvoiceLine]] = OrderedDict()
_lines_lock = threading.Lock()


def invoice_lines(invoice: Invoice) -> list[InvoiceLine]:
    if invoice.status == Invoice.Status.DRAFT or invoice.updated_at is None:
        return list(invoice.lines.all())
    key = (invoice.pk, invoice.pay_token, invoice.updated_at)
    with _lines_lock:
        kept = _lines.get(key)
        if kept is not None:
            _lines.move_to_end(key)
            return kept
    lines = list(invoice.lines.all())
    with _lines_lock:
        _lines[key] = lines
        while len(_lines) > LINES_KEPT:
            _lines.popitem(last=False)
    return lines
