import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path_factory):
    """Uploaded and seeded image files of catalog tests go to a temporary MEDIA_ROOT, never the project's."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
