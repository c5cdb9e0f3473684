"""A lost database connection outside DRF (the admin) is a 503 page with Retry-After, not a 500.

The failure is injected where the driver would raise it: every SQL statement of the request fails with the
OperationalError Django raises for a dropped connection (tests/faults kills a real backend for the API path).
"""

from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection


@contextmanager
def database_gone():
    def refuse(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(refuse):
        yield


@pytest.mark.django_db
def test_an_admin_page_without_its_database_is_a_503_page_and_the_next_request_works(admin_client):
    with database_gone():
        response = admin_client.get("/admin/catalog/product/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/html")
    assert b"The database is unavailable right now" in response.content
    assert admin_client.get("/admin/catalog/product/").status_code == 200
