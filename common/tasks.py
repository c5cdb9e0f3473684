"""The one way to queue Celery work: after the surrounding transaction commits, never inside it."""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, /, **kwargs) -> None:
    """Queue `task.delay(**kwargs)` once the current transaction commits (at once outside one).

    A rolled-back change queues nothing. Arguments are keyword-only and must be JSON-serializable:
    they travel through the broker. A broker failure after the commit is logged and does not turn the
    committed change into an error for the caller.
    """

    def enqueue() -> None:
        task.delay(**kwargs)

    transaction.on_commit(enqueue, robust=True)
