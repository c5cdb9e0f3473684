"""Settings for the test suite: the real settings, pointed at PostgreSQL and Redis.

`DATABASE_URL` and `REDIS_URL` from the environment win; these are the defaults `make test` uses.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shop")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
os.environ.setdefault("CACHE_KEY_PREFIX", "shop-test")
os.environ.setdefault("DEBUG", "false")

from config.settings import *  # noqa: E402,F403

# Hashing passwords at full strength only slows the suite; the hasher is not what is tested.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Lets the suite import payments.devstripe (the fake Stripe) with DEBUG false; no deployment sets it.
TESTING = True
