"""Settings of the real Celery worker the fault tests start (a subprocess): the test settings, plus

- emails written to files in FAULT_EMAIL_DIR, so the test process can read what the worker sent;
- every task start and finish appended to FAULT_TASK_LOG, so a test can count runs;
- FAULT_SLOW_TASK: that task blocks after it starts (a worker killed "with the task in hand");
- a short Redis visibility timeout, so a message of a killed worker is redelivered in seconds, not an hour;
- the outbox sweep publishes at once (no grace), as beat would after its grace period.
"""

import os
import time

from celery.signals import task_postrun, task_prerun

from config.settings_test import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["FAULT_EMAIL_DIR"]
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
    "visibility_timeout": 3,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
OUTBOX_RELAY_GRACE_SECONDS = 0

_TASK_LOG = os.environ["FAULT_TASK_LOG"]
_SLOW_TASK = os.environ.get("FAULT_SLOW_TASK", "")


def _log(event: str, task_id: str, task) -> None:
    with open(_TASK_LOG, "a") as log:
        log.write(f"{event} {task.name} {task_id}\n")


@task_prerun.connect(weak=False)
def _started(task_id=None, task=None, **kwargs):
    _log("start", task_id, task)
    if task.name == _SLOW_TASK:
        time.sleep(120)  # the test SIGKILLs the worker long before this ends


@task_postrun.connect(weak=False)
def _finished(task_id=None, task=None, **kwargs):
    _log("done", task_id, task)
