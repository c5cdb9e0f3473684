"""The S3 mode against a real S3 API over HTTP: moto's standalone server in a subprocess, not a patched boto."""

import io
import json
import socket
import subprocess
import sys
import time
import urllib.request

import boto3
import pytest
from PIL import Image

from catalog.models import ProductImage
from config.settings import s3_media_storage
from tests.catalog.imaging import gps_exif, image_bytes, upload
from tests.factories import ProductFactory

BUCKET = "shop-media-test"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def moto_server():
    # A port nobody holds, so the tests can only ever talk to the server they started (never a leftover one).
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("moto server did not start")
            time.sleep(0.2)
    assert process.poll() is None, "moto server exited"
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def s3(moto_server, settings):
    client = boto3.client("s3", endpoint_url=moto_server, **CREDENTIALS)
    client.create_bucket(Bucket=BUCKET)
    # As a shop configures its media bucket: anyone may read the objects (product images are public).
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{BUCKET}/*"}],
    }  # fmt: skip
    client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_media_storage(
            bucket=BUCKET,
            endpoint_url=moto_server,
            region="us-east-1",
            access_key="testing",
            secret_key="testing",
            media_url="",
        ),
    }
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the local moto server
        return response.read()


@pytest.mark.django_db
def test_images_live_in_the_bucket_with_absolute_urls_and_no_exif(
    s3, moto_server, staff_client, api_client, django_capture_on_commit_callbacks
):
    # given
    ProductFactory(slug="lamp")

    # when: a phone photo is uploaded and the thumbnail task runs after the commit
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            "/api/catalog/products/lamp/images/",
            {"image": upload(image_bytes("JPEG", (900, 600), exif=gps_exif()))},
            format="multipart",
        )

    # then: original and thumbnail are objects in the bucket, at absolute URLs served by the S3 API
    assert response.status_code == 201, response.json()
    image = ProductImage.objects.get()
    assert keys(s3) == sorted([image.image.name, image.thumbnail.name])
    body = api_client.get("/api/catalog/products/lamp/").json()["images"][0]
    assert body["url"] == f"{moto_server}/{BUCKET}/{image.image.name}"
    assert body["thumbnail_url"] == f"{moto_server}/{BUCKET}/{image.thumbnail.name}"
    with Image.open(io.BytesIO(download(body["url"]))) as original:
        assert original.size == (900, 600) and not original.getexif()
    with Image.open(io.BytesIO(download(body["thumbnail_url"]))) as thumbnail:
        assert thumbnail.format == "WEBP" and thumbnail.size == (400, 267)

    # when: the image is deleted, both objects leave the bucket after the commit
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.delete(f"/api/catalog/products/lamp/images/{image.pk}/").status_code == 204
    assert keys(s3) == []


@pytest.mark.django_db
def test_a_rejected_upload_puts_nothing_in_the_bucket(s3, staff_client):
    ProductFactory(slug="lamp")

    response = staff_client.post(
        "/api/catalog/products/lamp/images/", {"image": upload(b"GIF89a nonsense", "x.gif")}, format="multipart"
    )

    assert response.status_code == 400
    assert keys(s3) == []


def test_media_url_makes_a_cdn_the_host_of_file_urls():
    options = s3_media_storage(
        bucket="b", endpoint_url="", region="eu-west-1", access_key="", secret_key="",
        media_url="https://cdn.example.com/shop/",
    )["OPTIONS"]  # fmt: skip

    assert options["custom_domain"] == "cdn.example.com/shop" and options["url_protocol"] == "https:"
