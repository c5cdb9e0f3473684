import os

from celery import Celery
from celery.signals import beat_init, before_task_publish, setup_logging, task_postrun, task_prerun, worker_init

import config.metrics  # noqa: F401  (its signal handlers count task outcomes and queue latency)
from config.request_id import bind_request_id, current_request_id, unbind_request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shop")
# Every CELERY_* Django setting configures Celery; with no broker, tasks run in-process (eager).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _refuse_development_secret_key(**kwargs) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from config.startup import refuse_development_secret_key

    try:
        refuse_development_secret_key()
    except ImproperlyConfigured as exc:
        # Celery logs and swallows exceptions from signal handlers; SystemExit stops the process.
        raise SystemExit(str(exc)) from exc


# A task queued during a request carries the request's X-Request-ID, and the worker logs under it.
REQUEST_ID_HEADER = "request_id"


@before_task_publish.connect
def _send_request_id(headers=None, **kwargs) -> None:
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@task_prerun.connect
def _bind_request_id(task=None, **kwargs) -> None:
    request_id = getattr(task.request, REQUEST_ID_HEADER, None) if task else None
    if request_id:  # an eager task already runs inside the request's context
        task.request._request_id_token = bind_request_id(request_id)


@task_postrun.connect
def _unbind_request_id(task=None, **kwargs) -> None:
    token = getattr(task.request, "_request_id_token", None) if task else None
    if token is not None:
        unbind_request_id(token)
        task.request._request_id_token = None


@setup_logging.connect
def _keep_django_logging(**kwargs) -> None:
    """Worker and beat keep Django's LOGGING (applied by django.setup()) instead of Celery's own format:
    the request id and, under LOG_FORMAT=json, one JSON object per line with the task id."""
