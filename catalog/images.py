"""Image files of the catalog: check an upload by its content, re-encode it without metadata, make thumbnails.

Plain Pillow: one fixed thumbnail size made once by a Celery task needs no thumbnail library (sorl-thumbnail
and easy-thumbnails generate on the request path and keep their own key-value store or tables).
"""

import io
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from catalog.exceptions import InvalidCatalogInput

# Pillow format name -> (file suffix, content type)
FORMATS = {"JPEG": (".jpg", "image/jpeg"), "PNG": (".png", "image/png"), "WEBP": (".webp", "image/webp")}
MAX_PIXELS = 40_000_000
THUMBNAIL_SIZE = 400
READ_ERRORS = (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError, EOFError)


class InvalidImage(InvalidCatalogInput):
    default_message = "Upload a valid JPEG, PNG or WebP image."


@dataclass(frozen=True)
class CleanImage:
    content: ContentFile
    format: str
    width: int
    height: int


def _reject(message: str):
    return InvalidImage(message, field="image")


# Room for the multipart boundaries and the other form fields around the file.
FORM_OVERHEAD = 64 * 1024


def upload_size_check(*, content_length: str | int | None) -> None:
    """Refuse a request whose declared body cannot hold an acceptable image, before it is read to disk."""
    limit_mb = settings.MAX_IMAGE_UPLOAD_MB
    try:
        length = int(content_length or 0)
    except ValueError:
        return  # Django answers a malformed Content-Length itself
    if length > limit_mb * 1024 * 1024 + FORM_OVERHEAD:
        raise _reject(f"The image is larger than {limit_mb} MB.")


def image_clean(*, upload) -> CleanImage:
    """Open, verify and re-encode an upload; raise InvalidImage (400 on `image`) for anything else.

    Trusts the bytes, not the name or the declared content type. The result has the EXIF orientation
    applied and carries no EXIF, XMP, ICC or text chunks (a phone photo's GPS position must not leak).
    """
    limit_mb = settings.MAX_IMAGE_UPLOAD_MB
    if upload.size > limit_mb * 1024 * 1024:
        raise _reject(f"The image is larger than {limit_mb} MB.")
    try:
        upload.seek(0)
        with Image.open(upload) as probe:  # reads the header only
            fmt = probe.format
            if fmt not in FORMATS:
                raise _reject(f"Unsupported image format {fmt or 'unknown'}: upload a JPEG, PNG or WebP image.")
            if probe.width * probe.height > MAX_PIXELS:
                raise _reject(
                    f"The image has {probe.width}x{probe.height} pixels; at most {MAX_PIXELS // 1_000_000} "
                    "megapixels are accepted."
                )
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as source:
            source.load()
            picture = ImageOps.exif_transpose(source)
            return _encode(picture, fmt)
    except InvalidImage:
        raise
    except READ_ERRORS as exc:
        raise _reject("The file is not a valid JPEG, PNG or WebP image (corrupt or unreadable).") from exc


def _strip(picture: Image.Image) -> Image.Image:
    """A copy of the pixels with no metadata attached (info dict and cached EXIF dropped)."""
    if picture.mode == "P" and "transparency" in picture.info:
        picture = picture.convert("RGBA")
    clean = picture.copy()
    clean.info = {}
    clean._exif = None  # noqa: SLF001 - Pillow caches parsed EXIF here and would write it back
    return clean


def _encode(picture: Image.Image, fmt: str) -> CleanImage:
    picture = _strip(picture)
    if fmt == "JPEG" and picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")
    if fmt == "WEBP" and picture.mode not in ("RGB", "RGBA"):
        picture = picture.convert("RGBA" if "A" in picture.getbands() else "RGB")
    buffer = io.BytesIO()
    options = {"JPEG": {"quality": 90, "optimize": True}, "PNG": {"optimize": True}, "WEBP": {"quality": 90}}[fmt]
    picture.save(buffer, format=fmt, **options)
    suffix = FORMATS[fmt][0]
    return CleanImage(
        content=ContentFile(buffer.getvalue(), name=f"image{suffix}"),
        format=fmt,
        width=picture.width,
        height=picture.height,
    )


def thumbnail_render(*, data: bytes) -> ContentFile:
    """A WebP at most THUMBNAIL_SIZE px on its longer side (never enlarged) of an already cleaned image."""
    with Image.open(io.BytesIO(data)) as source:
        source.load()
        picture = source.convert("RGBA" if "A" in source.getbands() else "RGB")
    picture.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="WEBP", quality=82)
    return ContentFile(buffer.getvalue(), name="thumbnail.webp")
