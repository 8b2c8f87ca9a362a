from __future__ import annotations

from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "invoices"

    def ready(self) -> None:
        # Imported here, not at the top: these modules import the models, which
        # Django loads only after every app's config.
        from invoices import activity, checks, live, tasks  # noqa: F401  (checks, tasks register)

        # The pages that follow invoices: the domain announces, they render.
        activity.subscribe("live push", live.invoice_changed)
