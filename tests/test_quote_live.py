"""A quote's staff page hears the customer's answer live, against a real uvicorn process."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.servers import Deployment, PortalServer, SSEListener

SETUP = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from tests.quote_helpers import make_quote
user = get_user_model().objects.create_user("quotes", password="x", is_staff=True)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
quote = make_quote()
result = {"id": quote.pk, "token": quote.token, "session": session.session_key}
"""


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("quote-live"))
    deployment.quote = deployment.run_python(SETUP)
    yield deployment
    deployment.close()


@pytest.fixture(scope="module")
def server(deployment):
    server = PortalServer(deployment)
    yield server
    server.stop()


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} field"
    return match.group(1)


def test_the_staff_stream_says_when_the_customer_accepts(deployment, server):
    quote = deployment.quote
    since = int(time.time() * 1_000_000)
    listener = SSEListener(
        f"{server.url}/live/quotes/{quote['id']}/?since={since}",
        cookies={"sessionid": quote["session"]},
    )
    with httpx.Client(base_url=server.url) as customer:
        page = customer.get(f"/pay/quote/{quote['token']}/").text
        answer = customer.post(
            f"/pay/quote/{quote['token']}/accept/",
            data={
                "csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken"),
                "version": hidden(page, "version"),
                "digest": hidden(page, "digest"),
                "name": "Ada Lovelace",
            },
            headers={"Referer": f"{server.url}/pay/quote/{quote['token']}/"},
        )
    assert answer.status_code == 302
    event = listener.wait_for(lambda e: e.event == "quote-status" and "Accepted" in e.data)
    assert 'id="quote-status"' in event.data
    listener.close()
