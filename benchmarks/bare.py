"""The BARE ceiling: Django with no apps and no middleware, one view returning the cached product-list bytes
from Redis with one cache.get, under gunicorn with its defaults (only bind, workers and threads set, to the
shop server's counts). Everything the shop's cached hit costs above this is the shop's own overhead.

This module is both the settings (DJANGO_SETTINGS_MODULE=benchmarks.bare) and the WSGI app
(benchmarks.bare:application).
"""

import os

from django.core.cache import cache
from django.http import HttpResponse
from django.urls import path

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "bare")
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "benchmarks.bare"
USE_TZ = True
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "shop"),
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }
}
CEILING_KEY = "bench:ceiling"


def ceiling(request):
    body = cache.get(CEILING_KEY)
    if body is None:
        return HttpResponse(b'{"detail": "ceiling bytes not stored"}', status=503, content_type="application/json")
    return HttpResponse(body, content_type="application/json")


urlpatterns = [path("bench/ceiling/", ceiling)]

if os.environ.get("DJANGO_SETTINGS_MODULE") == "benchmarks.bare":
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
