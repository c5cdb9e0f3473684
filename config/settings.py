"""Settings for the shop, read from the environment (see README "Configuration").

With no variables set this is the embedded default used by `make run`: SQLite, an
in-process cache, eager Celery and the console email backend.
"""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from config.sentry import sentry_init

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    """The variable's value; unset or empty (compose passes `${X:-}` through as "") means the default."""
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_decimal(name: str, default: str | None) -> Decimal | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return Decimal(default) if default is not None else None
    return Decimal(value).quantize(Decimal("0.01"))


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEVELOPMENT_SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"  # noqa: S105

DEBUG = env_bool("DEBUG", False)
# Refused by every serving process (config.startup.refuse_development_secret_key, called from wsgi.py,
# asgi.py and the Celery worker and beat) when DEBUG is false; offline commands such as
# `makemigrations --check` or `spectacular` still run without a real key.
SECRET_KEY = env_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
FRONTEND_URL = env_str("FRONTEND_URL", "http://localhost:3000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "django_countries",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "axes",
    "common",
    "notifications",
    "idempotency",
    "users",
    # Before catalog: its `seed` command extends catalog's with a demo shop (it sits above every app).
    "demo",
    "catalog",
    "cart",
    "coupons",
    "orders",
    "payments",
    "reviews",
]

MIDDLEWARE = [
    # First, so every response (errors and the catalog's early cache hits too) carries X-Request-ID and every
    # log line of the request can name it.
    "config.request_id.RequestIdMiddleware",
    # Observability (README "Metrics, logs and errors"): they see every answer, the early ones too.
    "config.metrics.MetricsMiddleware",
    "config.logs.AccessLogMiddleware",  # LOG_FORMAT=json only
    "config.db_router.ReplicaReadsMiddleware",  # a no-op without DATABASE_REPLICA_URL
    "config.middleware.ServerTimingMiddleware",  # only under DEBUG (MiddlewareNotUsed otherwise)
    # Before anything that can answer on its own (CommonMiddleware, the views' early cache hits).
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Anonymous catalog cache hits, answered here: after the headers every response carries, before the rest.
    "catalog.middleware.CatalogCacheHitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A lost database connection in a view DRF does not handle (the admin) is a 503, not a 500 page.
    "config.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True),
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue instead of failing.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# --- Read replica (optional): anonymous catalog and review reads only, see config/db_router.py ---------------
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=60, conn_health_checks=True)
    DATABASES["replica"]["OPTIONS"] = {**DATABASES["replica"].get("OPTIONS", {}), "connect_timeout": 2}
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # tests: the replica alias reads the test database
DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- Cache ------------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "shop"),
            "TIMEOUT": 60 * 60,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # A Redis outage degrades to cache misses, never to a 500.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "shop",
            "TIMEOUT": 60 * 60,
        }
    }

# --- Auth -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
# django-axes first: it refuses a locked-out email before any password is checked (users.lockout).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (served by WhiteNoise, also under gunicorn with DEBUG=false) -----------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- Uploaded media (product images) ------------------------------------------------------------
# Local files under MEDIA_ROOT served by the app at /media/ (config.urls) unless S3_BUCKET is set; then
# S3-compatible object storage through django-storages, with public (unsigned) URLs.
MAX_IMAGE_UPLOAD_MB = env_int("MAX_IMAGE_UPLOAD_MB", 10)
S3_BUCKET = env_str("S3_BUCKET")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
MEDIA_URL = env_str("MEDIA_URL", "" if S3_BUCKET else "/media/")


def s3_media_storage(
    *, bucket: str, endpoint_url: str, region: str, access_key: str, secret_key: str, media_url: str
) -> dict:
    """The STORAGES entry for S3-compatible object storage (django-storages), with public unsigned URLs."""
    media = urlsplit(media_url)
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            "querystring_auth": False,
            "file_overwrite": False,
            # S3-compatible servers (MinIO, Ceph, moto) are addressed by path, not by bucket subdomain.
            "addressing_style": "path" if endpoint_url else None,
            # MEDIA_URL (e.g. a CDN in front of the bucket) becomes the host and prefix of every file URL.
            "custom_domain": f"{media.netloc}{media.path.rstrip('/')}" if media.netloc else None,
            "url_protocol": f"{media.scheme}:" if media.scheme else "https:",
        },
    }


if S3_BUCKET:
    MEDIA_STORAGE = s3_media_storage(
        bucket=S3_BUCKET,
        endpoint_url=env_str("S3_ENDPOINT_URL"),
        region=env_str("S3_REGION"),
        access_key=env_str("AWS_ACCESS_KEY_ID"),
        secret_key=env_str("AWS_SECRET_ACCESS_KEY"),
        media_url=MEDIA_URL,
    )
else:
    MEDIA_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}

STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Client address, proxies and rate limits ----------------------------------------------------
# How many proxies in front of the app append to X-Forwarded-For. 0: the socket address is the client and
# every X-Forwarded-* header is the client's own words. N: the N-th address from the right of
# X-Forwarded-For is the client (config.client_ip.client_ip, DRF's NUM_PROXIES rule), and X-Forwarded-Proto
# is trusted. The app port must then be reachable only through those proxies.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT > 0 else None
AUTH_THROTTLE_RATE = env_str("AUTH_THROTTLE_RATE", "20/minute")
COUPON_THROTTLE_RATE = env_str("COUPON_THROTTLE_RATE", "30/minute")

# django-axes: one account cannot be brute-forced from many addresses. Failures are counted per email
# (normalized like the login), from any address; 10 within the cool-off lock that email for 15 minutes.
# The doors (token endpoint, admin login) answer 429 themselves (users.lockout), so no AxesMiddleware.
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "users.lockout.lockout_username"
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"  # the same address rule as the throttles
AXES_RESET_ON_SUCCESS = True
# A refused attempt during a lockout is not counted again: the lockout ends 15 minutes after the 10th failure.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_DISABLE_ACCESS_LOG = True  # no row per successful login; failed attempts are what the lockout needs
AXES_VERBOSE = False

# --- CORS (django-cors-headers) ---------------------------------------------------------------
_frontend = urlsplit(FRONTEND_URL)
# Unset or empty: the storefront's origin only.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "") or [f"{_frontend.scheme}://{_frontend.netloc}"]
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = (
    "authorization",
    "content-type",
    "idempotency-key",
    "x-cart-token",
    "x-order-token",
    "if-none-match",
)
CORS_EXPOSE_HEADERS = ("X-Cart-Token", "ETag", "Idempotent-Replayed", "X-Request-ID")
CORS_ALLOW_CREDENTIALS = False  # tokens travel in headers, never in cookies

# --- REST framework ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        # Lets a logged-in admin use the browsable API and Swagger UI with their session.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.ShopAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    # JSON in: a view that takes a file upload declares its own MultiPartParser.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "config.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth": AUTH_THROTTLE_RATE, "coupon": COUPON_THROTTLE_RATE},
    # 0: REMOTE_ADDR. DRF's default (None) would take the whole X-Forwarded-For, which the client writes.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # The token view sends Django's user_logged_in instead, which sets last_login and resets the lockout.
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Shop API",
    "DESCRIPTION": "REST API of the shop: catalog, cart, coupons, orders, payments and reviews.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # One way to authorize: the JWT bearer. The admin's session still works in the browsable API and
    # Swagger UI at run time; it is left out of the schema so generated clients offer one scheme.
    "AUTHENTICATION_WHITELIST": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.postprocess",
        "config.schema.add_request_id_header",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "/favicon.svg",
    "REDOC_DIST": "SIDECAR",
    # System fonts: ReDoc's default Roboto/Montserrat would come from Google (templates/drf_spectacular/redoc.html).
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
                "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
                "code": {"fontFamily": "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"},
            }
        }
    },
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "deepLinking": True},
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    "ENUM_NAME_OVERRIDES": {"OrderStatusEnum": "orders.models.Order.Status"},
}

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# Redis: an unacked message (worker killed mid-task) is redelivered after the visibility timeout, which
# must exceed the longest countdown a task waits (retry_backoff_max 600 s). Short socket timeouts and a
# short publish retry keep a request quick when the broker is down: its work waits in the outbox.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2, "socket_timeout": 10}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BEAT_SCHEDULE = {
    "expire-unpaid-orders": {
        "task": "orders.tasks.expire_unpaid_orders",
        "schedule": 60.0,
    },
    # Checkout Sessions past their expiry yet pending here: a webhook never came, Stripe's word decides.
    "reconcile-checkout-sessions": {
        "task": "payments.tasks.reconcile_checkout_sessions",
        "schedule": 300.0,
    },
    # A sweep nobody ran within a minute is dropped: the next one does the same work.
    "relay-outbox": {"task": "common.tasks.relay_outbox", "schedule": 30.0, "options": {"expires": 60}},
    "purge-outbox": {"task": "common.tasks.purge_outbox", "schedule": 60.0 * 60},
    "delete-stale-guest-carts": {
        "task": "cart.tasks.delete_stale_guest_carts",
        "schedule": 3600.0,
    },
    "purge-idempotency-keys": {
        "task": "idempotency.tasks.purge_idempotency_keys",
        "schedule": 3600.0,
    },
}
# Outbox (common.outbox): the sweep leaves messages younger than the grace to the after-commit relay.
OUTBOX_RELAY_GRACE_SECONDS = 10
OUTBOX_RELAY_BATCH_SIZE = 100
OUTBOX_RETENTION_DAYS = 7

# --- Email ------------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Shop <no-reply@shop.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Shop rules -------------------------------------------------------------------------------
DEFAULT_CURRENCY = "usd"
ORDER_PAYMENT_TIMEOUT_MINUTES = env_int("ORDER_PAYMENT_TIMEOUT_MINUTES", 30)
LOW_STOCK_THRESHOLD = env_int("LOW_STOCK_THRESHOLD", 5)
SHIPPING_FEE = env_decimal("SHIPPING_FEE", "0.00")
FREE_SHIPPING_MIN_SUBTOTAL = env_decimal("FREE_SHIPPING_MIN_SUBTOTAL", None)
# Guests may fill a cart (X-Cart-Token) and check out (X-Order-Token); untouched guest carts die after the days.
GUEST_CHECKOUT = env_bool("GUEST_CHECKOUT", True)
GUEST_CART_DAYS = env_int("GUEST_CART_DAYS", 30)

# --- Stripe -----------------------------------------------------------------------------------
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env_str("STRIPE_API_BASE")
# `make run` without keys: the Stripe test double (payments/devstripe, started by `manage.py stripe_double`)
# stands in for Stripe, signing its webhooks with this secret. Never with DEBUG false.
STRIPE_DEV_DOUBLE = DEBUG and not STRIPE_SECRET_KEY
if STRIPE_DEV_DOUBLE:
    STRIPE_SECRET_KEY = "sk_test_dev_double"  # noqa: S105 (only the double accepts it)
    STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_SECRET or "whsec_dev_double_not_a_secret"
    STRIPE_API_BASE = STRIPE_API_BASE or "http://127.0.0.1:12111"

# --- Security ---------------------------------------------------------------------------------
HTTPS_ONLY = env_bool("HTTPS_ONLY", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if HTTPS_ONLY:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SILENCED_SYSTEM_CHECKS = [
    # No AxesMiddleware: the login doors answer the lockout themselves (see AXES_* above).
    "axes.W002",
    # W006 fears User-Agent rotation; failures are counted per email over every address and agent.
    "axes.W006",
]
if not HTTPS_ONLY:
    SILENCED_SYSTEM_CHECKS += ["security.W004", "security.W008", "security.W012", "security.W016"]

# --- Logging to stdout ------------------------------------------------------------------------
# json: one object per line (config/logs.py), with an access line per request and the Celery task id.
LOG_FORMAT = "json" if env_str("LOG_FORMAT", "text").strip().lower() == "json" else "text"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "config.request_id.RequestIdFilter"},
        "celery_task": {"()": "config.logs.CeleryTaskFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "config.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id", "celery_task"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Metrics and errors (README "Metrics, logs and errors") ------------------------------------------
# Set: /metrics answers with this bearer token (config/metrics.py); unset: there is no metrics endpoint.
METRICS_TOKEN = env_str("METRICS_TOKEN")
SENTRY_DSN = env_str("SENTRY_DSN")
sentry_init(dsn=SENTRY_DSN, environment="development" if DEBUG else "production")
