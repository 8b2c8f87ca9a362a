"""Every customer gets an account link: a random token per existing row, its digest unique."""

import hashlib
import secrets

from django.db import migrations, models


def issue_tokens(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    for customer in Customer.objects.filter(account_token="").only("pk").iterator():
        token = secrets.token_urlsafe(24)
        Customer.objects.filter(pk=customer.pk).update(
            account_token=token, account_token_digest=hashlib.sha256(token.encode()).hexdigest()
        )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_keyset_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="account_token",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="customer",
            name="account_token_digest",
            field=models.CharField(
                blank=True, editable=False, max_length=64, null=True, unique=True
            ),
        ),
        migrations.AddField(
            model_name="customer",
            name="account_requires_code",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunPython(issue_tokens, migrations.RunPython.noop),
    ]
