"""On PostgreSQL, a trigram index so searching invoice numbers (`icontains`,
which Django runs as UPPER(number) LIKE '%...%') does not scan every invoice.
Other databases have no such index type and skip it."""

from __future__ import annotations

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS invoice_number_trgm "
    "ON invoices_invoice USING gin (UPPER(number) gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS invoice_number_trgm"]


def run(statements: list[str]):
    def operation(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("invoices", "0001_initial")]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
