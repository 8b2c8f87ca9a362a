"""The domain announces a change; the pages that registered render it, each on its own."""

from __future__ import annotations

import pytest
from django.db import transaction

from invoices import activity, live
from invoices.models import Invoice
from tests.factories import make_open

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def registry(monkeypatch):
    """The app's subscribers, restored afterwards."""
    monkeypatch.setattr(activity, "_subscribers", dict(activity.subscribers()))
    return activity


def test_the_pages_subscribe_at_start_up():
    assert "live pages push" in activity.subscribers()
    assert set(live.followers("invoice")) == {"customer page", "staff pages"}
    assert set(live.followers("quote")) == {"staff quote page"}


def test_subscribers_hear_after_the_commit_with_the_committed_row(registry):
    invoice = make_open(lines=1)
    heard: list[tuple[int, str]] = []
    registry.subscribe("test", lambda fresh: heard.append((fresh.pk, fresh.memo)))
    with transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(memo="changed")
        activity.announce(invoice)
        assert heard == []  # nothing before the commit
    assert heard == [(invoice.pk, "changed")]


def test_a_failing_subscriber_stops_neither_the_others_nor_the_caller(registry, caplog):
    invoice = make_open(lines=1)
    heard = []

    def broken(fresh: Invoice) -> None:
        raise RuntimeError("redis down")

    registry.subscribe("broken", broken)
    registry.subscribe("listening", heard.append)
    with transaction.atomic():
        activity.announce(invoice)
    assert [fresh.pk for fresh in heard] == [invoice.pk]
    assert "after-commit hook broken failed" in caplog.text


def test_nothing_is_heard_when_the_change_rolls_back(registry):
    invoice = make_open(lines=1)
    heard = []
    registry.subscribe("test", heard.append)

    def change_then_fail() -> None:
        with transaction.atomic():
            activity.announce(invoice)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert heard == []
