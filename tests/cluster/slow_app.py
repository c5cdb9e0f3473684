"""The shop's Celery app with a test-only hook: Stripe webhook processing takes SLOW_SECONDS.

The cluster tests start their workers with `celery -A tests.cluster.slow_app worker`, so a worker can be
killed while it holds a webhook task (received and started, not yet acknowledged). Each start is appended
to STARTS (worker name and task id), which tells the test which worker to kill and who finished.
"""

import os
import socket
import time
from pathlib import Path

from celery.signals import task_prerun

from config.celery import app

__all__ = ["app"]

SLOW_SECONDS = 4.0
WEBHOOK_TASK = "payments.tasks.process_webhook_event"
STARTS = Path(os.environ.get("CLUSTER_DIR", "/tmp/shop-cluster")) / "webhook-starts.log"  # noqa: S108


@task_prerun.connect
def _slow_webhook(task=None, task_id=None, **kwargs) -> None:
    if task is not None and task.name == WEBHOOK_TASK:
        worker = task.request.hostname or socket.gethostname()
        with STARTS.open("a") as starts:
            starts.write(f"{worker} {task_id}\n")
        time.sleep(SLOW_SECONDS)
