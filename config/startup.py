from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def refuse_development_secret_key() -> None:
    """A process that serves requests or runs tasks must not sign anything with the development key."""
    if not settings.DEBUG and settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is the development key but DEBUG is false. "
            "Set SECRET_KEY to a long random value (or DEBUG=true for local development)."
        )
