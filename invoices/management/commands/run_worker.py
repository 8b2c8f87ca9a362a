"""`manage.py run_worker`: the background task worker production runs (see `invoices.worker`)."""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands import db_worker

from invoices import worker


class Command(db_worker.Command):
    help = "Run the task worker: db_worker that survives database restarts and recovers dead tasks"

    def handle(self, *, verbosity: int, **options: Any) -> None:
        self.configure_logging(verbosity)
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        worker.run(
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
        )
