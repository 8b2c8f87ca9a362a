"""The outbox: one row per email the portal owes someone.

A row is written in the same transaction as the change that causes the email
(a payment, a refund, a send), so the email exists exactly when that change
does. `invoices.outbox` delivers it, retries it with back-off, and records
the outcome here; the unique `key` names the email (kind, invoice and what it
is about), so it is never queued twice and a retried delivery knows whether it
already went out.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class EmailLog(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32)
    # An email is about an invoice, or (a statement) about a customer's account.
    invoice = models.ForeignKey(
        "invoices.Invoice",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="email_logs",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="email_logs",
    )
    payment = models.ForeignKey(
        "invoices.Payment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipient = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    message_id = models.CharField(max_length=300, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="emaillog_status_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for invoice {self.invoice_id} ({self.status})"

    @property
    def label(self) -> str:
        if self.kind == "notice":
            return f"Staff notice ({self.params.get('notice_kind', '')})".replace("_", " ")
        return self.kind.replace("_", " ").capitalize()
