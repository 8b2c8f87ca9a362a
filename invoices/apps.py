from __future__ import annotations

import functools

from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "invoices"

    def ready(self) -> None:
        # Imported here, not at the top: these modules import the models, which
        # Django loads only after every app's config.
        from invoices import activity, checks, live, quote_notices, tasks, totals  # noqa: F401  (they register)
        from invoices.account import sections as account_sections
        from invoices.documents import account_codes, credit_notes, statements  # noqa: F401 (kinds)
        from invoices.documents import autopay_emails as autopay_kinds  # noqa: F401  (kinds)
        from invoices.documents import quote_notices as quote_notice_kind  # noqa: F401  (kind)
        from invoices.documents import quotes as quote_emails  # noqa: F401  (its email kind)
        from invoices.pay import live as pay_live
        from invoices.staff import live as staff_live
        from invoices.staff import quote_live

        # The pages that follow invoices: the domain announces a change, the hub tells
        # every server process, and each renders it for the pages open there, if any.
        activity.subscribe_to_ids("live pages push", functools.partial(live.changed, "invoice"))
        live.follow("invoice", "customer page", pay_live.FOLLOWER)
        live.follow("invoice", "staff pages", staff_live.FOLLOWER)
        # A quote's staff page follows the customer's answer.
        quote_notices.subscribe("staff quote page push", quote_live.push_status)
        live.follow("quote", "staff quote page", quote_live.FOLLOWER)
        # The account page's quotes and saved payment methods.
        account_sections.register()
