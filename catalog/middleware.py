"""Anonymous catalog cache hits answered ahead of the rest of the stack.

Sits right after the middleware whose headers every response must carry (X-Request-ID, CORS, the security
headers; see MIDDLEWARE in config/settings.py) and before sessions, CSRF, authentication, URL dispatch by
the handler and DRF. A GET with no credentials at all (no Authorization header, no session cookie) for a
cached catalog list or detail is answered here from one Redis round trip, with its ETag / 304 and
`Cache-Control: public, no-cache`; anything else, and every miss, goes on through the stack as usual.
"""

from functools import lru_cache

from django.conf import settings
from django.urls import Resolver404, resolve

from catalog.cache import cached_response_get
from catalog.views import MIDDLEWARE_MISS, CachedReadMixin

CACHED_ACTIONS = ("list", "retrieve")


@lru_cache(maxsize=4096)  # paths that resolve are few (one per product, category...); misses are not cached long
def _catalog_route(path: str):
    """(viewset class, basename, action, URL kwargs) for a cached catalog read at `path`, else None."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    view = match.func
    cls = getattr(view, "cls", None)
    action = (getattr(view, "actions", None) or {}).get("get")
    if cls is None or not issubclass(cls, CachedReadMixin) or action not in CACHED_ACTIONS:
        return None
    return cls, view.initkwargs.get("basename"), action, tuple(sorted(match.kwargs.items()))


class CatalogCacheHitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.session_cookie = settings.SESSION_COOKIE_NAME
        self.frame_options = settings.X_FRAME_OPTIONS

    def __call__(self, request):
        if (
            request.method == "GET"
            and request.path_info.startswith("/api/catalog/")
            and "HTTP_AUTHORIZATION" not in request.META
            and self.session_cookie not in request.COOKIES
            and "text/html" not in request.META.get("HTTP_ACCEPT", "")
            and "format" not in request.GET
            # DRF's test client authenticates without credentials on the request (force_authenticate).
            and getattr(request, "_force_auth_user", None) is None
        ):
            route = _catalog_route(request.path_info)
            if route is not None:
                cls, basename, action, kwargs = route
                parts = cls.cache_parts(request, basename=basename, action=action, kwargs=dict(kwargs))
                page = cached_response_get(view=parts[0], query=parts[1]) if parts else None
                if page is not None and page.body is not None:
                    response = cls._hit(request, page)
                    # what XFrameOptionsMiddleware and CommonMiddleware, later in the chain, would have added
                    response["X-Frame-Options"] = self.frame_options
                    if response.status_code == 200:
                        response["Content-Length"] = str(len(response.content))
                    return response
                if page is not None:  # a miss: the view stores its page under the version read here
                    setattr(request, MIDDLEWARE_MISS, (parts, page.version))
        return self.get_response(request)
