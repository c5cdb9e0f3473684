"""A real Celery worker (thread, solo pool) on the Redis broker makes the thumbnail after the upload commits."""

import pytest

from catalog.models import ProductImage
from tests.catalog.imaging import image_bytes, upload
from tests.factories import ProductFactory
from tests.users.test_celery_worker import redis_worker, wait_for  # noqa: F401 - the fixture

PRODUCTS = "/api/catalog/products/"


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_thumbnail_is_made_by_a_worker_and_joins_the_cached_list(redis_worker, settings, tmp_path,  # noqa: F811
                                                                     staff_client, api_client):  # fmt: skip
    settings.MEDIA_ROOT = tmp_path / "media"
    ProductFactory(slug="vase")
    assert api_client.get(PRODUCTS).json()["results"][0]["thumbnail"] is None  # cached now

    # when: the upload commits and queues the task on the broker
    response = staff_client.post(
        f"{PRODUCTS}vase/images/", {"image": upload(image_bytes("PNG", (1000, 500)), "v.png")}, format="multipart"
    )
    assert response.status_code == 201 and response.json()["thumbnail_url"] is None

    # then: the worker stores the thumbnail, and its UPDATE invalidated the cached list
    assert wait_for(lambda: ProductImage.objects.exclude(thumbnail="").exists())
    image = ProductImage.objects.get()
    assert (tmp_path / "media" / image.thumbnail.name).is_file()
    listed = api_client.get(PRODUCTS).json()["results"][0]
    assert listed["thumbnail"] == f"http://testserver/media/{image.thumbnail.name}"
