"""config.urls plus `ceiling`: the most this stack can do on this machine.

The ceiling view returns the exact bytes of the cached product-list page (stored once by benchmarks/run.py)
with one cache.get, through the same middleware stack: everything a cached response cannot avoid.
"""

from django.core.cache import cache
from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as config_urlpatterns

CEILING_KEY = "bench:ceiling"


def ceiling(request):
    body = cache.get(CEILING_KEY)
    if body is None:
        return HttpResponse(b'{"detail": "ceiling bytes not stored"}', status=503, content_type="application/json")
    return HttpResponse(body, content_type="application/json")


urlpatterns = [path("bench/ceiling/", ceiling, name="bench-ceiling"), *config_urlpatterns]
