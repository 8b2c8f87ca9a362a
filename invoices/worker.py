"""The task worker: django-tasks-db's `db_worker`, plus what production needs.

- It survives the database going away (a restart, a failover): the error is
  logged, the worker waits (1, 2, 4 ... 30 s) and carries on where it was.
- A task left RUNNING by a worker that died (kill -9, a lost machine) is made
  READY again once it has run longer than `TASKS_LEASE_SECONDS`; django-tasks-db
  alone would leave it running forever. Every task here is safe to run twice
  (the outbox claims each email), so the lease only has to outlast the longest
  task (an email with a PDF: seconds; SMTP times out after 10 s).
- Emails the outbox still owes without a task (a retry under a backend that
  cannot defer, a lease that ran out) are given one.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from invoices import outbox

logger = logging.getLogger("invoices.worker")

RECOVER_EVERY_SECONDS = 30.0


def recover_stale_tasks() -> int:
    """Make tasks whose worker has been gone longer than the lease READY again."""
    cutoff = timezone.now() - timedelta(seconds=settings.TASKS_LEASE_SECONDS)
    stale = DBTaskResult.objects.running().filter(started_at__lt=cutoff)
    recovered = stale.update(status="READY", started_at=None)
    if recovered:
        logger.warning("recovered %s task(s) left running by a worker that died", recovered)
    return recovered


def requeue_owed_emails() -> int:
    """Give a task to each email that is due (or whose delivery died) and has none running."""
    ids = outbox.due_emails()
    for email_id in ids:
        outbox.schedule(outbox.EmailLog(pk=email_id))
    return len(ids)


def recover() -> None:
    try:
        recover_stale_tasks()
        requeue_owed_emails()
    except Exception as error:
        logger.warning("recovery skipped, database unavailable: %s", error)


class Worker(db_worker.Worker):
    def run(self) -> None:
        recover()
        stop = threading.Event()
        if not self.batch:
            threading.Thread(target=self._watch, args=(stop,), daemon=True).start()
        delay = 1.0
        try:
            while self.running:
                try:
                    super().run()
                    return  # --batch or --max-tasks: done
                except Exception as error:  # a task's own errors never get here
                    if self.batch:
                        raise
                    logger.warning("worker: %s; retrying in %ss", error, delay)
                    connections.close_all()
                    time.sleep(delay)
                    delay = min(delay * 2, 30.0)
        finally:
            stop.set()

    def _watch(self, stop: threading.Event) -> None:
        every = min(RECOVER_EVERY_SECONDS, settings.TASKS_LEASE_SECONDS)
        while not stop.wait(every):
            recover()
            connections.close_all()  # this thread's own connection


def run(**options: object) -> None:
    worker = Worker(**options)  # type: ignore[arg-type]
    worker.configure_signals()
    worker.run()


def run_batch() -> None:
    """Run every task that is due, then return (tests, and `run_worker --batch`)."""
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="batch",
        excluded_queue_names=[],
    ).run()
