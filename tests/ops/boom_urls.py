"""A URLconf with a view that fails, for the error-path header test."""

from django.urls import path


def boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", boom)]
