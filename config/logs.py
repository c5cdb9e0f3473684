"""Log lines as JSON (LOG_FORMAT=json) and the access log of each request.

Every line is one JSON object: time, level, logger, message, request_id (config.request_id), and whatever
the record carries among user_id, method, path, status, duration_ms, task_id, task_name; an exception adds
`exc`. Used by the web process (Django's LOGGING and gunicorn's own logger, see gunicorn.conf.py) and the
Celery worker and beat (they keep Django's LOGGING: config.celery stops Celery from replacing it).
gunicorn's master loads this module before Django is set up: it only touches settings lazily.
"""

import json
import logging
import time
from datetime import UTC, datetime

from celery import current_task
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed

from config.request_id import current_request_id

EXTRA_FIELDS = ("user_id", "method", "path", "status", "duration_ms", "task_id", "task_name")
access_logger = logging.getLogger("shop.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id() or None,
        }
        if line["request_id"] == "-":
            line["request_id"] = None
        for field in EXTRA_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class CeleryTaskFilter(logging.Filter):
    """Adds the running Celery task's id and name to records logged inside it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "task_id"):
            task = current_task
            if task and getattr(task, "request", None) and task.request.id:
                record.task_id, record.task_name = task.request.id, task.name
        return True


class AccessLogMiddleware:
    """One `shop.access` line per request with user, path, status and duration (JSON logs only).

    Under LOG_FORMAT=text gunicorn's own access log does this job, so the middleware steps aside.
    """

    def __init__(self, get_response):
        if settings.LOG_FORMAT != "json":
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        access_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "user_id": user.pk if user is not None and user.is_authenticated else None,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return response
