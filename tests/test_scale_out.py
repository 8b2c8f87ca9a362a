"""Two web processes on two ports sharing one database and Redis, as two machines
behind a load balancer would: whatever a request does on one, the other sees."""

from __future__ import annotations

import re
import threading

import httpx
import pytest

from stripe_sim.testing import SimulatorProcess
from tests.servers import Deployment, PortalServer, SSEListener, redis_url

SETUP = """
from django.contrib.auth import get_user_model
from tests.factories import make_draft, make_open
get_user_model().objects.create_user("scale", password="scale-out-password", is_staff=True)
invoice = make_open()
drafts = [make_draft() for _ in range(12)]
result = {"invoice": {"id": invoice.pk, "token": invoice.pay_token},
          "drafts": [d.pk for d in drafts]}
"""

NUMBERS = """
from invoices.models import Invoice
result = sorted(Invoice.objects.exclude(number="").values_list("number", flat=True))
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    url = redis_url()
    if url is None:
        pytest.skip("needs Redis (REDIS_URL or 127.0.0.1:6379); CI runs it")
    deployment = Deployment(tmp_path_factory.mktemp("scale"), redis=url)
    seed = deployment.run_python(SETUP)
    with SimulatorProcess(retry_base=0.05, quiet=True) as sim:
        stripe = {
            "STRIPE_API_BASE": sim.api_base,
            "STRIPE_JS_URL": sim.js_url,
            "STRIPE_WEBHOOK_SECRET": sim.webhook_secret,
        }
        first = PortalServer(deployment, **stripe)
        second = PortalServer(deployment, **stripe)
        sim.configure(webhook_endpoints=[f"{first.url}/invoices/wh/"], delivery_enabled=True)
        try:
            yield deployment, sim, first, second, seed
        finally:
            first.stop()
            second.stop()
            deployment.close()


def sign_in(server: PortalServer) -> httpx.Client:
    client = httpx.Client(timeout=20)
    form = client.get(f"{server.url}/accounts/login/").text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    response = client.post(
        f"{server.url}/accounts/login/",
        data={
            "username": "scale",
            "password": "scale-out-password",
            "csrfmiddlewaretoken": token,
        },
    )
    assert response.status_code == 302, response.text
    return client


def csrf(client: httpx.Client) -> dict[str, str]:
    return {"X-CSRFToken": client.cookies["csrftoken"]}


def test_sign_in_on_one_pay_on_the_other_and_see_it_live_everywhere(cluster):
    _deployment, sim, first, second, seed = cluster
    staff = sign_in(first)
    assert staff.get(f"{second.url}/").status_code == 200  # the session is shared
    invoice = seed["invoice"]
    customer = httpx.Client(timeout=20)
    customer.get(f"{second.url}/pay/{invoice['token']}/")
    listener = SSEListener(f"{second.url}/pay/{invoice['token']}/events/")
    staff_feed = SSEListener(f"{second.url}/live/staff/", cookies=dict(staff.cookies))
    assert "Amount due" in listener.next().data

    partial = customer.post(f"{second.url}/pay/{invoice['token']}/pay/", headers=csrf(customer))
    secret = re.search(r'data-client-secret="([^"]+)"', partial.text).group(1)
    intent_id = secret.split("_secret_")[0]
    sim.client().v1.payment_intents.confirm(
        intent_id, params={"payment_method": "pm_card_visa", "return_url": f"{second.url}/"}
    )

    delivery = sim.wait_for_delivery(type="payment_intent.succeeded", status="200")
    assert delivery["endpoint"].startswith(first.url)
    assert "Paid" in listener.wait_for(lambda e: e.event == "status" and "Paid" in e.data).data
    row_event = f"invoice-{invoice['id']}-row"
    row = staff_feed.wait_for(lambda e: e.event == row_event and "Paid" in e.data)
    assert f'id="invoice-row-{invoice["id"]}"' in row.data
    listener.close()
    staff_feed.close()


def test_concurrent_finalizes_on_both_get_gapless_numbers(cluster):
    deployment, _sim, first, second, seed = cluster
    clients = {first: sign_in(first), second: sign_in(second)}
    barrier = threading.Barrier(len(seed["drafts"]))
    statuses: list[int] = []

    def finalize(index: int, draft: int) -> None:
        server = first if index % 2 else second
        client = clients[server]
        barrier.wait()
        response = client.post(f"{server.url}/invoices/{draft}/finalize/", headers=csrf(client))
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=finalize, args=(i, draft)) for i, draft in enumerate(seed["drafts"])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302] * len(seed["drafts"])
    numbers = deployment.run_python(NUMBERS)
    assert numbers == [f"INV-{n:04d}" for n in range(1, len(seed["drafts"]) + 2)]
