from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from invoices.models import Invoice
from invoices.staff import rows

register = template.Library()


@register.simple_tag
def invoice_row(invoice: Invoice) -> SafeString:
    """`{% invoice_row invoice %}`: the invoice's row of the staff lists."""
    return rows.invoice_row(invoice)
