"""Product images through the API: content-checked uploads, metadata stripping, thumbnails, delete, reads."""

import io
import random
from pathlib import Path

import pytest
from PIL import Image

from catalog.models import ProductImage
from tests.catalog.imaging import GPS_IFD, gps_exif, image_bytes, upload
from tests.factories import ProductFactory, VariantFactory

PRODUCTS = "/api/catalog/products/"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def product(db):
    return ProductFactory(slug="mug")


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def post_image(client, data: bytes, name="photo.jpg", content_type="image/jpeg", slug="mug", **fields):
    return client.post(f"{PRODUCTS}{slug}/images/", {"image": upload(data, name, content_type), **fields},
                       format="multipart")  # fmt: skip


def fetch(api_client, url: str) -> bytes:
    response = api_client.get(url)
    assert response.status_code == 200, url
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- Uploads ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "content_type", "suffix"),
    [("JPEG", "image/jpeg", ".jpg"), ("PNG", "image/png", ".png"), ("WEBP", "image/webp", ".webp")],
)
def test_staff_upload_each_format_stores_it_and_makes_a_thumbnail(
    staff_client, api_client, product, media_root, django_capture_on_commit_callbacks, fmt, content_type, suffix
):
    # when: a 1200x800 image is uploaded (the thumbnail task runs eagerly after the commit)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_image(staff_client, image_bytes(fmt, (1200, 800)), f"x{suffix}", content_type, alt_text="Mug")

    # then: the image is stored in its own format with its size, and the thumbnail is a WebP <= 400 px
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["width"] == 1200 and body["height"] == 800 and body["alt_text"] == "Mug"
    assert body["url"].startswith("http://testserver/media/products/") and body["url"].endswith(suffix)
    assert body["thumbnail_url"] is None  # answered before the task ran
    with Image.open(io.BytesIO(fetch(api_client, body["url"]))) as stored:
        assert stored.format == fmt
    image = ProductImage.objects.get(pk=body["id"])
    detail = api_client.get(f"{PRODUCTS}mug/").json()
    assert detail["images"][0]["thumbnail_url"] == f"http://testserver/media/{image.thumbnail.name}"
    with Image.open(io.BytesIO(fetch(api_client, detail["images"][0]["thumbnail_url"]))) as thumbnail:
        assert thumbnail.format == "WEBP" and thumbnail.size == (400, 267)
    assert len(stored_files(media_root)) == 2


def test_the_file_name_and_content_type_do_not_decide_the_format(staff_client, product):
    # a PNG named and declared as a JPEG is stored as the PNG it is
    response = post_image(staff_client, image_bytes("PNG"), "cat.jpg", "image/jpeg")

    assert response.status_code == 201
    assert response.json()["url"].endswith(".png")


def test_gps_exif_is_stripped_from_the_stored_original(staff_client, api_client, product):
    # given: a phone photo with a GPS position in its EXIF
    photo = image_bytes("JPEG", exif=gps_exif())
    with Image.open(io.BytesIO(photo)) as original:
        assert original.getexif().get_ifd(GPS_IFD)  # the test image really carries it

    # when
    response = post_image(staff_client, photo)

    # then: the stored file carries no EXIF at all (nor the raw GPS bytes)
    assert response.status_code == 201
    stored = fetch(api_client, response.json()["url"])
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif()
        assert "exif" not in image.info
    assert b"PhoneMaker" not in stored and b"Exif" not in stored


def test_exif_orientation_is_applied_before_it_is_dropped(staff_client, api_client, product):
    # a 600x400 sensor image tagged "rotate 90 CW" (orientation 6) is a 400x600 portrait photo
    response = post_image(staff_client, image_bytes("JPEG", (600, 400), exif=gps_exif(orientation=6)))

    assert response.status_code == 201
    assert (response.json()["width"], response.json()["height"]) == (400, 600)
    with Image.open(io.BytesIO(fetch(api_client, response.json()["url"]))) as image:
        assert image.size == (400, 600) and not image.getexif()


def test_png_text_chunks_are_not_kept(staff_client, api_client, product):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "home address: 1 Secret Lane")
    buffer = io.BytesIO()
    Image.new("RGB", (50, 50), "red").save(buffer, format="PNG", pnginfo=info)

    response = post_image(staff_client, buffer.getvalue(), "x.png", "image/png")

    assert response.status_code == 201
    assert b"Secret Lane" not in fetch(api_client, response.json()["url"])


# --- Rejections ---------------------------------------------------------------------------------


def _bomb_png() -> bytes:
    # 8000 x 5001 = 40,008,000 pixels of one colour: a few kilobytes compressed
    return image_bytes("PNG", (8000, 5001), mode="L", color=0)


def _noise_png(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), random.Random(side).randbytes(side * side * 3)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"%PDF-1.4 not an image at all", "invoice.jpg", "not a valid JPEG, PNG or WebP"),
        (image_bytes("GIF"), "anim.gif", "Unsupported image format GIF"),
        (image_bytes("BMP"), "bitmap.png", "Unsupported image format BMP"),
        (image_bytes("JPEG", (800, 600))[:2000], "truncated.jpg", "not a valid JPEG, PNG or WebP"),
        (_bomb_png(), "bomb.png", "at most 40 megapixels"),
    ],
    ids=["not-an-image", "gif", "bmp", "corrupt", "decompression-bomb"],
)
def test_a_bad_upload_is_a_400_and_nothing_is_stored(staff_client, product, media_root, data, name, message):
    response = post_image(staff_client, data, name)

    assert response.status_code == 400
    assert list(response.json()) == ["image"]
    assert message in response.json()["image"][0]
    assert not ProductImage.objects.exists()
    assert stored_files(media_root) == []


def test_an_upload_over_max_image_upload_mb_is_a_400(staff_client, product, media_root, settings):
    settings.MAX_IMAGE_UPLOAD_MB = 1
    data = _noise_png(700)  # about 1.4 MB: noise does not compress
    assert len(data) > 1024 * 1024

    response = post_image(staff_client, data, "big.png", "image/png")

    assert response.status_code == 400
    assert response.json() == {"image": ["The image is larger than 1 MB."]}
    assert not ProductImage.objects.exists() and stored_files(media_root) == []


def test_image_clean_refuses_a_file_over_the_limit_without_opening_it(settings):
    from catalog.images import InvalidImage, image_clean

    settings.MAX_IMAGE_UPLOAD_MB = 1
    oversized = upload(b"\xff\xd8" + b"\0" * (1024 * 1024), "big.jpg")

    with pytest.raises(InvalidImage, match="larger than 1 MB"):
        image_clean(upload=oversized)


def test_only_staff_edit_and_delete_images(staff_client, api_client, user_client, product):
    image = post_image(staff_client, image_bytes()).json()
    url = f"{PRODUCTS}mug/images/{image['id']}/"

    assert api_client.patch(url, {"alt_text": "x"}, format="json").status_code == 401
    assert user_client.patch(url, {"alt_text": "x"}, format="json").status_code == 403
    assert user_client.delete(url).status_code == 403
    assert ProductImage.objects.get().alt_text == ""


def test_a_variant_of_another_product_is_a_400(staff_client, product, media_root):
    other_variant = VariantFactory(product=ProductFactory())

    response = post_image(staff_client, image_bytes(), variant=other_variant.pk)

    assert response.status_code == 400
    assert list(response.json()) == ["variant"]
    assert stored_files(media_root) == []


def test_only_staff_upload(api_client, user_client, product):
    assert post_image(api_client, image_bytes()).status_code == 401
    assert post_image(user_client, image_bytes()).status_code == 403
    assert not ProductImage.objects.exists()


# --- Reads, edits, delete -----------------------------------------------------------------------


def test_images_are_listed_in_position_order_and_tied_to_a_variant(staff_client, api_client, product):
    variant = VariantFactory(product=product)
    first = post_image(staff_client, image_bytes(color="red")).json()
    second = post_image(staff_client, image_bytes(color="blue"), position=0, variant=variant.pk).json()
    assert first["position"] == 0 and second["variant"] == variant.pk

    # when: the first is moved behind the second
    response = staff_client.patch(f"{PRODUCTS}mug/images/{first['id']}/", {"position": 5}, format="json")

    # then: the public list and the detail follow the new order
    assert response.status_code == 200 and response.json()["position"] == 5
    listed = api_client.get(f"{PRODUCTS}mug/images/").json()["results"]
    assert [image["id"] for image in listed] == [second["id"], first["id"]]
    assert [image["id"] for image in api_client.get(f"{PRODUCTS}mug/").json()["images"]] == [second["id"], first["id"]]


def test_patch_changes_alt_text_and_clears_the_variant(staff_client, api_client, product):
    variant = VariantFactory(product=product)
    image = post_image(staff_client, image_bytes(), variant=variant.pk).json()

    response = staff_client.patch(
        f"{PRODUCTS}mug/images/{image['id']}/", {"alt_text": "A blue mug", "variant": None}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["alt_text"] == "A blue mug" and response.json()["variant"] is None


def test_the_list_thumbnail_is_the_first_images_thumbnail(
    staff_client, api_client, product, django_capture_on_commit_callbacks
):
    assert api_client.get(PRODUCTS).json()["results"][0]["thumbnail"] is None
    with django_capture_on_commit_callbacks(execute=True):
        post_image(staff_client, image_bytes(color="red"), position=3)
        post_image(staff_client, image_bytes(color="blue"), position=1)
    first = ProductImage.objects.get(position=1)

    # the upload and the thumbnail task invalidated the cached list
    assert api_client.get(PRODUCTS).json()["results"][0]["thumbnail"] == f"http://testserver/media/{first.thumbnail}"


def test_delete_removes_the_row_and_both_files_after_commit(
    staff_client, product, media_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        image = post_image(staff_client, image_bytes()).json()
    assert len(stored_files(media_root)) == 2

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.delete(f"{PRODUCTS}mug/images/{image['id']}/")
    assert response.status_code == 204
    assert not ProductImage.objects.exists()
    assert len(stored_files(media_root)) == 2  # nothing removed before the commit
    for callback in callbacks:
        callback()
    assert stored_files(media_root) == []


def test_deleting_the_product_removes_its_image_files(
    staff_client, product, media_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_image(staff_client, image_bytes())
        response = staff_client.delete(f"{PRODUCTS}mug/")
    assert response.status_code == 204
    assert stored_files(media_root) == []


def test_the_thumbnail_task_is_idempotent(staff_client, product, media_root, django_capture_on_commit_callbacks):
    from catalog.tasks import image_thumbnail_create

    with django_capture_on_commit_callbacks(execute=True):
        image = post_image(staff_client, image_bytes()).json()

    assert image_thumbnail_create(image_id=image["id"]) is False
    assert image_thumbnail_create(image_id=10**9) is False
    assert len(stored_files(media_root)) == 2


def test_media_is_served_with_debug_false(staff_client, client, product, settings):
    settings.DEBUG = False
    url = post_image(staff_client, image_bytes()).json()["url"]

    response = client.get(url.removeprefix("http://testserver"))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "immutable" in response["Cache-Control"]
    assert client.get("/media/../config/settings.py").status_code in (400, 404)  # never the file


def test_making_the_thumbnail_invalidates_the_cached_catalog(
    staff_client, api_client, product, django_capture_on_commit_callbacks
):
    from catalog.services import image_thumbnail_make

    # given: an uploaded image whose thumbnail task has not run, and the list cached without it
    with django_capture_on_commit_callbacks(execute=False):
        image = post_image(staff_client, image_bytes()).json()
    assert api_client.get(PRODUCTS).json()["results"][0]["thumbnail"] is None
    assert api_client.get(PRODUCTS)["X-Cache"] == "HIT"

    # when: the task's work runs (its UPDATE goes through CatalogQuerySet)
    with django_capture_on_commit_callbacks(execute=True):
        assert image_thumbnail_make(image_id=image["id"]) is True

    # then: the next read misses the cache and shows the thumbnail
    response = api_client.get(PRODUCTS)
    assert response["X-Cache"] == "MISS" and response.json()["results"][0]["thumbnail"].endswith(".webp")
