import os

from celery import Celery
from celery.signals import beat_init, worker_init

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
