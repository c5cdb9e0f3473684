"""Test images drawn with Pillow in memory (no fixtures on disk) and the upload helpers of the image tests."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (640, 480), color="teal", exif=None, mode="RGB") -> bytes:
    buffer = io.BytesIO()
    picture = Image.new(mode, size, color)
    options = {"exif": exif} if exif is not None else {}
    picture.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def gps_exif(*, orientation: int | None = None) -> Image.Exif:
    """EXIF as a phone writes it: camera make, a GPS position and optionally an orientation."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if orientation is not None:
        exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    return exif


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)
