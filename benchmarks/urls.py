"""config.urls plus `ceiling`: the most this stack can do on this machine.

The ceiling view returns the exact bytes of the cached product-list page (stored once by benchmarks/run.py)
with one cache.get, through the same middleware stack: everything a cached response cannot avoid.
"""

from django.urls import path

from benchmarks.bare import CEILING_KEY, ceiling  # the same view; bare's WSGI app is built only when it is the settings
from config.urls import urlpatterns as config_urlpatterns

__all__ = ["CEILING_KEY", "urlpatterns"]

urlpatterns = [path("bench/ceiling/", ceiling, name="bench-ceiling"), *config_urlpatterns]
