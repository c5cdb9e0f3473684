import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shop")
# Every CELERY_* Django setting configures Celery; with no broker, tasks run in-process (eager).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
