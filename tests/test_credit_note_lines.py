"""Credit notes for some lines: by quantity or amount, tax in proportion, never more than
was invoiced per line, across any number of credit notes."""

from __future__ import annotations

import io
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from invoices.credit_lines import LineCredit, creditable_lines
from invoices.credit_notes import issue_credit_note
from invoices.documents.credit_notes import credit_note_pdf
from invoices.models import CreditNote, EmailLog, Invoice, InvoiceLine, Refund
from invoices.payments.handlers import apply_intent_succeeded
from invoices.payments.intents import start_payment
from invoices.payments.refunds import apply_refund
from invoices.services import InvoiceStateError, finalize_invoice
from tests.factories import InvoiceLineFactory, make_draft

pytestmark = pytest.mark.django_db


def invoice_with(*lines: tuple[str, str, int, str], **kwargs: object) -> Invoice:
    """An open invoice with (description, quantity, unit amount, tax rate) lines."""
    draft = make_draft(lines=0, **kwargs)
    for position, (description, quantity, unit_amount, rate) in enumerate(lines):
        InvoiceLineFactory(
            invoice=draft,
            position=position,
            description=description,
            quantity=Decimal(quantity),
            unit_amount=unit_amount,
            tax_rate=Decimal(rate),
        )
    saved = list(draft.lines.all())
    draft.recalculate(saved)
    InvoiceLine.objects.bulk_update(saved, ["amount"])
    draft.save()
    return finalize_invoice(invoice=draft)


def line(invoice: Invoice, description: str) -> InvoiceLine:
    return invoice.lines.get(description=description)


def url(invoice: Invoice) -> str:
    return reverse("invoices:new_credit_note", args=[invoice.pk])


def test_it_credits_a_quantity_with_its_tax_in_proportion(staff):
    # 3 x $10.01 at 19 %: $30.03 and $5.71 tax (5.7057 rounded half up).
    invoice = invoice_with(("Hours", "3", 1001, "19"), ("Licence", "1", 5000, "0"))
    hours = line(invoice, "Hours")
    note = issue_credit_note(
        invoice=invoice, reason="One hour too many", lines=[LineCredit(hours.pk, Decimal(1))]
    )
    (credited,) = note.lines.all()
    assert (credited.description, credited.quantity) == ("Hours", Decimal(1))
    assert (credited.amount, credited.tax) == (1001, 190)  # 5.71 x 1001/3003 = 1.9033
    assert note.amount == 1191
    invoice.refresh_from_db()
    assert (invoice.amount_credited, invoice.amount_due) == (1191, invoice.total - 1191)


def test_crediting_a_line_in_parts_gives_back_exactly_what_it_cost(staff):
    invoice = invoice_with(("Hours", "3", 1001, "19"), discount_kind="percent")
    hours = line(invoice, "Hours")
    charged = invoice.total  # the only line: its net plus its tax
    notes = [
        issue_credit_note(invoice=invoice, reason=f"Part {n}", lines=[LineCredit(hours.pk, q)])
        for n, q in enumerate((Decimal("0.5"), Decimal("1.25"), Decimal("1.25")))
    ]
    assert sum(n.amount for n in notes) == charged
    invoice.refresh_from_db()
    assert (invoice.amount_due, invoice.status) == (0, Invoice.Status.PAID)


def test_a_discount_is_credited_with_the_line(staff):
    invoice = invoice_with(("Design", "2", 5000, "20"), ("Hosting", "1", 2000, "0"))
    invoice.discount_kind, invoice.discount_value = "percent", Decimal(10)
    invoice.recalculate()
    invoice.save()
    design = line(invoice, "Design")
    note = issue_credit_note(
        invoice=invoice, reason="Returned", lines=[LineCredit(design.pk, Decimal(2))]
    )
    # $100 less its share of the $12 discount (10 000 / 12 000 of it) = $90, tax $18.
    assert (note.lines.get().amount, note.lines.get().tax, note.amount) == (9000, 1800, 10800)


def test_an_amount_before_tax_takes_its_tax_along(staff):
    invoice = invoice_with(("Hours", "3", 1001, "19"))
    hours = line(invoice, "Hours")
    note = issue_credit_note(
        invoice=invoice, reason="Goodwill", lines=[LineCredit(hours.pk, amount=1000)]
    )
    assert (note.lines.get().amount, note.lines.get().tax) == (1000, 190)


def test_it_never_credits_more_of_a_line_than_was_invoiced(staff):
    invoice = invoice_with(("Hours", "3", 1001, "19"), ("Licence", "1", 5000, "0"))
    hours = line(invoice, "Hours")
    issue_credit_note(invoice=invoice, reason="Two", lines=[LineCredit(hours.pk, Decimal(2))])
    with pytest.raises(InvoiceStateError, match="at most 1 can still be credited"):
        issue_credit_note(invoice=invoice, reason="x", lines=[LineCredit(hours.pk, Decimal(2))])
    with pytest.raises(InvoiceStateError, match=r"at most \$10.01 before tax"):
        issue_credit_note(invoice=invoice, reason="x", lines=[LineCredit(hours.pk, amount=1002)])
    other = invoice_with(("Elsewhere", "1", 100, "0"))
    with pytest.raises(InvoiceStateError, match="not on this invoice"):
        issue_credit_note(
            invoice=invoice, reason="x", lines=[LineCredit(line(other, "Elsewhere").pk, 1)]
        )
    assert CreditNote.objects.count() == 1
    left = {c.line.description: c for c in creditable_lines(invoice)}
    assert left["Hours"].quantity_left == 1
    assert left["Licence"].total_left == 5000


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    quantity=st.integers(min_value=1, max_value=50),
    unit_amount=st.integers(min_value=1, max_value=999_999),
    rate=st.decimals(min_value=0, max_value=100, places=2),
    cuts=st.lists(st.integers(min_value=1, max_value=49), max_size=4),
    currency=st.sampled_from(["USD", "JPY"]),
)
def test_any_split_of_a_line_credits_exactly_its_cost(
    staff, quantity, unit_amount, rate, cuts, currency
):
    with transaction.atomic():
        invoice = invoice_with(("Item", str(quantity), unit_amount, str(rate)), currency=currency)
        item = line(invoice, "Item")
        points = sorted({c for c in cuts if c < quantity})
        parts = [b - a for a, b in zip([0, *points], [*points, quantity], strict=True)]
        total = 0
        for part in parts:
            note = issue_credit_note(
                invoice=invoice, reason="Split", lines=[LineCredit(item.pk, Decimal(part))]
            )
            total += note.amount
        assert total == invoice.total
        invoice.refresh_from_db()
        assert invoice.amount_due == 0
        transaction.set_rollback(True)


def test_staff_credit_lines_from_the_form(staff_client):
    invoice = invoice_with(("Hours", "3", 1001, "19"), ("Licence", "1", 5000, "0"))
    hours, licence = line(invoice, "Hours"), line(invoice, "Licence")
    page = staff_client.get(url(invoice)).content.decode()
    assert f'name="line_{hours.pk}_quantity"' in page
    response = staff_client.post(
        url(invoice),
        {
            "credit_by": "lines",
            "amount": "999",  # the amount box is ignored when crediting lines
            f"line_{hours.pk}_quantity": "1",
            f"line_{licence.pk}_amount": "20.00",
            "reason": "Partly returned",
        },
    )
    assert response.status_code == 302
    note = CreditNote.objects.get()
    assert [(n.description, n.amount, n.tax) for n in note.lines.all()] == [
        ("Hours", 1001, 190),
        ("Licence", 2000, 0),
    ]
    assert note.amount == 3191
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(credit_note_pdf(note))).pages)
    assert "Hours" in text
    assert "Licence" in text
    assert "-$31.91" in text


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"quantity": "²"}, "Enter a number."),
        ({"quantity": "4"}, "at most 3 can still be credited"),
        ({"quantity": "-1"}, "greater than or equal to 0.001"),
        ({"quantity": "1e9"}, "less than or equal to 1000000"),
        ({"quantity": "0.0001"}, "no more than 3 decimal places"),
        ({"amount": "10.001"}, "more decimals"),
        ({"amount": "1e999999999"}, "The largest amount"),
        ({"amount": "30.04"}, "at most $30.03 before tax"),
        ({"quantity": "1", "amount": "1"}, "not both"),
        ({}, "at least one line"),
    ],
)
def test_bad_line_input_changes_nothing(staff_client, fields, error):
    invoice = invoice_with(("Hours", "3", 1001, "19"))
    hours = line(invoice, "Hours")
    post = {"credit_by": "lines", "reason": "x"}
    post |= {f"line_{hours.pk}_{name}": value for name, value in fields.items()}
    response = staff_client.post(url(invoice), post)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not CreditNote.objects.exists()
    invoice.refresh_from_db()
    assert invoice.amount_credited == 0


@pytest.mark.parametrize("card", ["pm_card_visa", "pm_card_pendingRefund"])
def test_a_refund_by_credit_note_sends_one_email(
    stripe_env, mailoutbox, django_capture_on_commit_callbacks, card
):
    invoice = invoice_with(("Hours", "3", 1001, "19"), ("Licence", "1", 5000, "0"))
    start_payment(invoice=invoice)
    invoice.refresh_from_db()
    intent = stripe_env.client().v1.payment_intents.confirm(
        invoice.stripe_payment_intent_id,
        params={"payment_method": card, "return_url": "http://x/"},
    )
    with transaction.atomic():
        apply_intent_succeeded(intent.to_dict(), "")
    EmailLog.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        note = issue_credit_note(
            invoice=invoice, reason="Returned", lines=[LineCredit(line(invoice, "Licence").pk, 1)]
        )
        refund = Refund.objects.get()
        if card == "pm_card_pendingRefund":  # Stripe says succeeded later, by webhook
            assert refund.status == Refund.Status.PENDING
            settled = stripe_env.settle_refund(refund.stripe_refund_id, "succeed")
            with transaction.atomic():
                apply_refund(settled, "evt_settled")
    assert note.outcome == CreditNote.Outcome.REFUNDED
    refund.refresh_from_db()
    assert (refund.status, refund.amount) == (Refund.Status.SUCCEEDED, 5000)
    invoice.refresh_from_db()
    assert (invoice.amount_refunded, invoice.amount_credited) == (5000, 5000)
    assert list(EmailLog.objects.values_list("kind", flat=True)) == ["credit_note"]
    (mail,) = [m for m in mailoutbox if "CN-0001" in m.subject or "Refund" in m.subject]
    assert mail.subject.startswith("Credit note CN-0001")
    assert "goes back to the card" in mail.body
    assert invoice.activities.filter(kind="refunded").exists()  # the trail stays complete


@pytest.mark.django_db(transaction=True)
def test_concurrent_credit_notes_for_one_line_credit_it_once():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent row locks need PostgreSQL (CI runs this on PostgreSQL)")
    invoice = invoice_with(("Hours", "3", 1001, "19"))
    hours = line(invoice, "Hours")
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def credit() -> None:
        try:
            barrier.wait()
            issue_credit_note(
                invoice=invoice, reason="Race", lines=[LineCredit(hours.pk, Decimal(2))]
            )
            outcomes.append("issued")
        except InvoiceStateError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=credit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["issued", "refused", "refused", "refused"]
    assert CreditNote.objects.get().lines.get().quantity == 2


def test_the_invoice_page_shows_what_each_credit_note_took_back(staff_client):
    invoice = invoice_with(("Hours <b>", "3", 1001, "19"), ("Licence", "1", 5000, "0"))
    hours = line(invoice, "Hours <b>")
    issue_credit_note(invoice=invoice, reason="One hour", lines=[LineCredit(hours.pk, 1)])
    body = staff_client.get(invoice.get_absolute_url()).content.decode()
    assert "Hours &lt;b&gt; \u00d7 1: $11.91" in body
