"""The one way to queue Celery work: through the transactional outbox, published after the commit."""

import logging

from celery import current_app, shared_task
from django.db import transaction

from common import outbox

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, /, **kwargs) -> None:
    """Queue `task(**kwargs)` once the current transaction commits (at once outside one).

    A rolled-back change queues nothing. Arguments are keyword-only and must be JSON-serializable:
    they travel through the broker. With a broker, the task is first stored as an outbox row in the
    caller's transaction and published after the commit; if the broker is down the row waits for the
    periodic sweep, so the work is never lost and the committed request never fails. With eager Celery
    (no broker, `make run`) the task runs in-process after the commit, as there is nothing to lose.
    """
    if getattr(task, "app", current_app).conf.task_always_eager:

        def run() -> None:
            task.delay(**kwargs)

        transaction.on_commit(run, robust=True)
        return
    message = outbox.outbox_message_add(task=task.name, kwargs=kwargs)
    transaction.on_commit(lambda: outbox.outbox_publish(message=message), robust=True)


@shared_task
def relay_outbox() -> int:
    """Beat: publish outbox messages the after-commit relay could not (broker was down, process died)."""
    return outbox.outbox_relay_pending()


@shared_task
def purge_outbox() -> int:
    """Beat: drop published outbox messages past their retention."""
    return outbox.outbox_purge()
