"""SQL queries per request for each page (run inside `manage.py shell` by bench/run.py)."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from invoices.models import Invoice

client = Client()
staff = Client()
staff.force_login(get_user_model().objects.get(username="bench"))
pay5 = Invoice.objects.get(number="PAY-0005")
pay50 = Invoice.objects.get(number="PAY-0050")
# The first view records "viewed" (and the first page creates the business
# profile): measure the steady state.
client.get(pay5.get_pay_url(), HTTP_HOST="127.0.0.1")
client.get(pay50.get_pay_url(), HTTP_HOST="127.0.0.1")

pages = {
    "healthz": (client, "/healthz"),
    "pay page, 5 lines": (client, pay5.get_pay_url()),
    "pay page, 50 lines": (client, pay50.get_pay_url()),
    "invoice list, first page": (staff, "/"),
    "invoice list, open tab": (staff, "/?status=open"),
    "invoice list, search": (staff, "/?q=customer42"),
}
result = {}
for name, (who, url) in pages.items():
    with CaptureQueriesContext(connection) as captured:
        response = who.get(url, HTTP_HOST="127.0.0.1")
    assert response.status_code == 200, (name, response.status_code)
    result[name] = len(captured.captured_queries)
print("QUERIES=" + json.dumps(result))
