"""Tuckbox settings, driven entirely by the environment (see `.env.example`).

One engine everywhere: PostgreSQL (`DATABASE_URL`) and Redis (`REDIS_URL`) are
required, in production, in the test suite and in `make run`, which starts both
from pip wheels under `var/` (scripts/with_services.py) when they are not given.
With DEBUG off every secret must be set and unpublished (config/secret_settings.py);
local stacks take throwaway ones from var/secrets.env (`python -m config.dev_secrets var/secrets.env`).
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ

from config.engines import database_from_env, redis_url_from_env
from config.secret_settings import Secrets, ed25519_seed_items, load_env_file

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# A local stack's throwaway secrets (python -m config.dev_secrets), under the environment and .env.
DEV_SECRETS_FILE = env.str("DEV_SECRETS_FILE", default=str(VAR_DIR / "secrets.env"))
SECRETS_FROM_DEV_FILE = load_env_file(Path(DEV_SECRETS_FILE)) if DEV_SECRETS_FILE else set()

DEBUG = env.bool("DEBUG", default=False)
# Every secret is its own (never derived from another) and may come from <NAME>_FILE. With DEBUG off
# a missing, short or published one stops settings from loading (config/secret_settings.py); the
# development defaults below are published, so they serve only with DEBUG on.
dev_key = "insecure-embedded-default-key-change-me-0123456789"
secret_reader = Secrets(debug=DEBUG, skipped_files=[DEV_SECRETS_FILE] if DEV_SECRETS_FILE else [])
SECRET_KEY = secret_reader.one("SECRET_KEY", min_length=50, dev_default=dev_key)
# Old keys that still verify what SECRET_KEY signed (sessions, password resets) during a rotation.
SECRET_KEY_FALLBACKS = secret_reader.many("SECRET_KEY_FALLBACKS", min_length=50)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "x-request-id",
    "x-terminal-key",
)
CORS_EXPOSE_HEADERS = ("x-request-id", "retry-after", "idempotent-replayed")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "guardians",
    "wallet",
    "vouchers",
    "canteen",
    "events",
    "audit",
    "api",
    "web",
    "config",
]

MIDDLEWARE = [
    "api.middleware.RequestIdMiddleware",
    "api.metrics.MetricsMiddleware",
    "audit.context.AuditContextMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "guardians.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database ---------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": database_from_env(env)}
secret_reader.not_published("the DATABASE_URL password", DATABASES["default"].get("PASSWORD", ""))
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Parameters bound by the server, and a statement run DATABASE_PREPARE_THRESHOLD times on a
# connection is prepared: PostgreSQL then stops planning the hot queries on every request, which
# was most of its CPU on the money paths (docs/performance.md). Behind PgBouncer in transaction
# mode this needs PgBouncer 1.21+ with max_prepared_statements set; DATABASE_PREPARE_THRESHOLD=0
# turns preparing off (docs/operations.md).
prepare_threshold = env.int("DATABASE_PREPARE_THRESHOLD", default=5)
DATABASES["default"].setdefault("OPTIONS", {}).update(
    {"server_side_binding": True, "prepare_threshold": prepare_threshold if prepare_threshold > 0 else None}
)
# No statement outlives the request waiting for it: past this PostgreSQL cancels it and the API
# answers 503 `database_timeout` (api/errors.py). gunicorn's timeout is set above it, so our answer
# goes out before the worker is killed. Workers (Procfile) allow their batch jobs longer. 0: not sent,
# the role's or server's applies.
DATABASE_STATEMENT_TIMEOUT_SECONDS = env.float("DATABASE_STATEMENT_TIMEOUT_SECONDS", default=20.0)
# No row lock is waited for longer than this, whoever takes it: the connection's default, which bounds
# every lock of core/locks.py; the ledger (wallet/ledger.py) and the functions of wallet/sql/,
# events/sql/ and canteen/sql/ also set it per transaction. Past it PostgreSQL gives up (SQLSTATE
# 55P03) and the API answers 409 `lock_timeout` with Retry-After (api/errors.py), nothing saved.
# Workers (Procfile) allow their batch jobs longer. 0: none of them sets it, the role's or server's applies.
DATABASE_LOCK_TIMEOUT_SECONDS = env.float("DATABASE_LOCK_TIMEOUT_SECONDS", default=5.0)
_session_settings = {"statement_timeout": DATABASE_STATEMENT_TIMEOUT_SECONDS, "lock_timeout": DATABASE_LOCK_TIMEOUT_SECONDS}
# Each sent only if at least a millisecond: '-c lock_timeout=0' would mean no timeout, not the role's.
_session_milliseconds = {name: int(seconds * 1000) for name, seconds in _session_settings.items()}
DATABASES["default"]["OPTIONS"]["options"] = " ".join(
    f"-c {name}={milliseconds}" for name, milliseconds in _session_milliseconds.items() if milliseconds > 0
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ------------------------------------------------
REDIS_URL = redis_url_from_env(env)
secret_reader.not_published("the REDIS_URL password", urlsplit(REDIS_URL).password or "")
# Every Redis client gives up after these: a hung Redis costs a request this long, not a worker's life.
REDIS_CONNECT_TIMEOUT_SECONDS = env.float("REDIS_CONNECT_TIMEOUT_SECONDS", default=0.5)
REDIS_SOCKET_TIMEOUT_SECONDS = env.float("REDIS_SOCKET_TIMEOUT_SECONDS", default=0.5)
_REDIS_TIMEOUTS = {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS, "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "OPTIONS": _REDIS_TIMEOUTS}
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
# Tasks go to the broker and a worker runs them, as in production. Tests that want a task's
# effect inside the request switch Celery to eager themselves.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# A task whose worker dies (SIGKILL, OOM) is acknowledged only after it ran, so it is redelivered.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The Django fixup would close the worker's database connection around every task; config/celery.py
# does what Django does between requests instead. This many tasks between the fixup's own closes.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Publishing never retries inside a request: the outbox (core.jobs) is the retry.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT_SECONDS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **_REDIS_TIMEOUTS,
    # A publish that cannot connect fails at once instead of sleeping through kombu's reconnect loop
    # (2 s and more with Redis stopped); workers reconnect with their own loop.
    "max_retries": 0,
    # A message taken by a worker that vanished without a word (the whole worker SIGKILLed) is
    # handed out again after this; it must exceed the longest countdown a task retries with (1 h).
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT_SECONDS", default=2 * 3600),
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_CONNECT_TIMEOUT_SECONDS
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_SOCKET_TIMEOUT_SECONDS
# The outbox relay (core.relay): how long `manage.py relay_outbox` waits for a notification before it
# looks anyway, how often beat relays too (for when no relay process runs), how long sent rows are kept.
OUTBOX_RELAY_WAKE_SECONDS = env.float("OUTBOX_RELAY_WAKE_SECONDS", default=5.0)
OUTBOX_RELAY_INTERVAL_SECONDS = env.float("OUTBOX_RELAY_INTERVAL_SECONDS", default=15.0)
OUTBOX_KEEP_SENT_DAYS = env.int("OUTBOX_KEEP_SENT_DAYS", default=7)

# --- Auth -------------------------------------------------------------------
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=["django.contrib.auth.hashers.PBKDF2PasswordHasher"],
)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=30)),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": secret_reader.one("JWT_SIGNING_KEY", min_length=32, dev_default=dev_key),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}
if SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] > timedelta(minutes=15):
    raise environ.ImproperlyConfigured("JWT_ACCESS_MINUTES may be at most 15")

# --- REST framework and OpenAPI --------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.auth.JWTSessionAuthentication",
        "api.auth.TerminalKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "DEFAULT_METADATA_CLASS": "api.metadata.OperationMetadata",
    "DEFAULT_PAGINATION_CLASS": "api.pagination.CursorPage",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.problem_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "sign_in_ip": env.str("THROTTLE_SIGN_IN_IP", default="20/min"),
        "sign_in_email": env.str("THROTTLE_SIGN_IN_EMAIL", default="5/min"),
        "link_code": env.str("THROTTLE_LINK_CODE", default="10/min"),
        "register_ip": env.str("THROTTLE_REGISTER_IP", default="10/hour"),
        "password_change": env.str("THROTTLE_PASSWORD_CHANGE", default="5/hour"),
    },
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Tuckbox API",
    "DESCRIPTION": (
        "Cashless payments and activity vouchers for schools and community programs. "
        "Money is integer cents (AUD). Errors are application/problem+json (RFC 9457) "
        "with a stable `code`. Money-moving POSTs take an `Idempotency-Key` header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "MerchantCategoryEnum": "wallet.models.merchants.MerchantCategory",
        "CardStatusEnum": "wallet.models.cards.CardStatus",
        "OrderStatusEnum": "canteen.models.OrderStatus",
        "DietaryTagEnum": "canteen.models.DietaryTag",
        "AllergenEnum": "canteen.models.Allergen",
        "ItemCategoryEnum": "canteen.models.ItemCategory",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "openapi.hooks.add_problem_responses",
        "openapi.hooks.drop_backend_integer_limits",
    ],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SORT_OPERATIONS": False,
}

# Bodies above this answer 413 before a parser ever sees them. The largest legitimate body is a
# bulk-issue CSV of 250,000 characters (up to 4 bytes each in UTF-8: 1,000,000 bytes); a signature's
# 5,000 points are about 200 KB even with full-precision floats.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

# --- Email ------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# Where the file-based backend (`make run`) writes each message, one file per email.
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
PUSH_BACKEND = env.str("PUSH_BACKEND", default="core.notifications.LoggingPushBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Tuckbox <no-reply@tuckbox.local>")
# Without a timeout a hung mail server holds a worker (and the notice's row lock) for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Payments ---------------------------------------------------------------
# "fake": the local gateway that behaves like Stripe (`make run` and the tests);
# "stripe": the stripe library against Stripe's API.
# The fake gateway lets a guardian "pay" by calling /simulate: only `make run` and the tests
# choose it, so a deployment that forgets to configure Stripe fails closed instead of minting money.
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="stripe")
if PAYMENT_GATEWAY not in {"fake", "stripe"}:
    raise environ.ImproperlyConfigured("PAYMENT_GATEWAY must be 'fake' or 'stripe'")
# The fake gateway lets anyone "pay" without paying: with DEBUG off it serves only a stack on this
# machine (`make run`), never a site with a public name.
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]", "testserver"}
if PAYMENT_GATEWAY == "fake" and not DEBUG and not set(ALLOWED_HOSTS) <= LOOPBACK_HOSTS:
    raise environ.ImproperlyConfigured(
        "Refusing to start: PAYMENT_GATEWAY=fake serves only this machine (ALLOWED_HOSTS on loopback) "
        "or DEBUG on; production takes payments through Stripe."
    )
STRIPE_SECRET_KEY = (
    secret_reader.one("STRIPE_SECRET_KEY", min_length=32, dev_default="")
    if PAYMENT_GATEWAY == "stripe"
    else env.str("STRIPE_SECRET_KEY", default="")
)
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
# Required with either gateway: the webhook endpoint verifies events with it (the fake gateway signs them).
STRIPE_WEBHOOK_SECRET = secret_reader.one("STRIPE_WEBHOOK_SECRET", min_length=32, dev_default="")
# Stripe's own tolerance: a signed event older than this is refused (replay protection).
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env.int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", default=300)
# Empty: Stripe's API. Tests point it at a local fake server.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_TIMEOUT_SECONDS = env.int("STRIPE_TIMEOUT_SECONDS", default=20)
# The library retries connection errors and 5xx with the same idempotency key, so retries are safe.
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# Unused wallet balance is refunded only to top-ups this recent (older card refunds fail more often).
TOPUP_REFUNDABLE_DAYS = env.int("TOPUP_REFUNDABLE_DAYS", default=180)
# Automatic top-ups and webhook events stuck longer than this are retried by the sweeper.
PAYMENTS_SWEEP_AFTER = timedelta(minutes=env.int("PAYMENTS_SWEEP_AFTER_MINUTES", default=5))

# --- Wallet -----------------------------------------------------------------
# Key of the HMAC under which card identifiers are stored; rotate with a re-hash.
CARD_IDENTIFIER_KEY = secret_reader.one("CARD_IDENTIFIER_KEY", min_length=32, dev_default=dev_key + ":card-identifiers")
TOPUP_MIN_CENTS = env.int("TOPUP_MIN_CENTS", default=500)
TOPUP_MAX_CENTS = env.int("TOPUP_MAX_CENTS", default=50_000)
# Card-payment fee shown before paying: fixed cents plus basis points of the amount.
TOPUP_FEE_FIXED_CENTS = env.int("TOPUP_FEE_FIXED_CENTS", default=0)
TOPUP_FEE_BASIS_POINTS = env.int("TOPUP_FEE_BASIS_POINTS", default=0)
CARD_CHARGE_MAX_CENTS = env.int("CARD_CHARGE_MAX_CENTS", default=20_000)
CARD_REFUND_WINDOW = timedelta(days=env.int("CARD_REFUND_WINDOW_DAYS", default=30))

# --- Idempotency ------------------------------------------------------------
IDEMPOTENCY_KEY_TTL = timedelta(hours=env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24))
# A request still "in progress" after this long is taken to have died.
IDEMPOTENCY_LEASE = timedelta(seconds=env.int("IDEMPOTENCY_LEASE_SECONDS", default=60))

# --- Link codes -------------------------------------------------------------
LINK_CODE_TTL = timedelta(days=env.int("LINK_CODE_TTL_DAYS", default=14))
GUARDIAN_INVITE_TTL = timedelta(days=env.int("GUARDIAN_INVITE_TTL_DAYS", default=7))

# --- Leavers and retention (docs/privacy.md) --------------------------------
# Seven years after the leaving day, the leaver's personal data is de-identified: the span Australian
# financial-records law sets for the transactions it explains (Corporations Act s286), which is the
# longest any purpose of ours needs it for (APP 11.2). A school with a shorter disposal rule sets less.
LEAVER_RETENTION_DAYS = env.int("LEAVER_RETENTION_DAYS", default=7 * 365 + 2)
# How far back and ahead staff may set a leaving day.
LEAVER_BACKDATE_DAYS = env.int("LEAVER_BACKDATE_DAYS", default=30)
LEAVER_AHEAD_DAYS = env.int("LEAVER_AHEAD_DAYS", default=400)

# --- i18n / time ------------------------------------------------------------
LANGUAGE_CODE = "en-au"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# WhiteNoise serves the admin and the offline API docs (Swagger UI, Redoc) from
# the installed apps themselves, so no collectstatic step is needed to start.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_AUTOREFRESH = DEBUG

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# HTTPS only, unless DEBUG. Behind a TLS-terminating proxy the proxy must set X-Forwarded-Proto
# and gunicorn must be reachable only through it (docs/operations.md, HTTPS). /healthz answers
# plain HTTP for load balancers' probes.
if env.bool("BEHIND_TLS_PROXY", default=not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

from config.logging import build_logging  # noqa: E402

LOGGING = build_logging(json=env.bool("LOG_JSON", default=True), level=env.str("LOG_LEVEL", default="INFO"))
# The server's per-request access line; off in the test suite, where it is noise.
ACCESS_LOG = env.bool("ACCESS_LOG", default=True)

from config.celery_schedule import CELERY_BEAT_SCHEDULE  # noqa: E402

CELERY_BEAT_SCHEDULE["outbox-relay"]["schedule"] = OUTBOX_RELAY_INTERVAL_SECONDS

# --- Events -------------------------------------------------------------------
# Where emailed links point (the API's public origin).
EVENTS_PUBLIC_BASE_URL = env.str("EVENTS_PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
# The key that signs the links in event emails, and old keys still accepted during a rotation.
EVENTS_LINK_KEY = secret_reader.one("EVENTS_LINK_KEY", min_length=50, dev_default=dev_key + ":event-links")
EVENTS_LINK_KEY_FALLBACKS = secret_reader.many("EVENTS_LINK_KEY_FALLBACKS", min_length=50)
# Signed links in event emails stop working after this long.
EVENTS_LINK_MAX_AGE = timedelta(days=env.int("EVENTS_LINK_MAX_AGE_DAYS", default=30))
# Staff roles that see medical answers (rosters, consent PDFs); the others see that an answer was withheld.
EVENTS_MEDICAL_ROLES = env.list("EVENTS_MEDICAL_ROLES", default=["admin", "teacher"])
EVENTS_SIGNATURE_MAX_STROKES = env.int("EVENTS_SIGNATURE_MAX_STROKES", default=60)
EVENTS_SIGNATURE_MAX_POINTS = env.int("EVENTS_SIGNATURE_MAX_POINTS", default=5000)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "EventStatusEnum": "events.models.events.EventStatus",
        "SignupStatusEnum": "events.models.signups.SignupStatus",
        "EventKindEnum": "events.models.events.EventKind",
        "AbsenceReasonEnum": "guardians.models.AbsenceReason",
        "LeaverReasonEnum": "guardians.leavers_models.LeaverReason",
    }
)

# --- Vouchers -----------------------------------------------------------------
# QR signing keys (Ed25519): "kid:<base64url 32-byte seed>,kid2:..."; the active one signs,
# all verify. To rotate, add the new key, make it active, and move the old one's public key to
# VOUCHER_RETIRED_PUBLIC_KEYS ("kid:<base64url 32-byte public key>,...") for as long as its
# printed codes should work (docs/operations.md, Secrets). The development default is the key
# earlier versions derived from the development SECRET_KEY.
VOUCHER_SIGNING_KEYS = secret_reader.spec(
    "VOUCHER_SIGNING_KEYS", dev_default="dev-153d5838:yqVftpsm96dylwFSnCdGemQHf2VKGMYg7twjfc2eazg", items=ed25519_seed_items
)
VOUCHER_SIGNING_KEY_ID = env.str("VOUCHER_SIGNING_KEY_ID", default="")
VOUCHER_RETIRED_PUBLIC_KEYS = env.str("VOUCHER_RETIRED_PUBLIC_KEYS", default="")
# The app's rotating code: RFC 6238 steps, and how many steps of clock skew either way are accepted.
VOUCHER_CODE_STEP_SECONDS = env.int("VOUCHER_CODE_STEP_SECONDS", default=30)
VOUCHER_CODE_SKEW_STEPS = env.int("VOUCHER_CODE_SKEW_STEPS", default=1)
# Failed voucher look-ups (unknown number, bad code, wrong date of birth) a terminal may make a minute.
VOUCHER_LOOKUP_FAILURES_PER_MINUTE = env.int("VOUCHER_LOOKUP_FAILURES_PER_MINUTE", default=10)
VOUCHER_VOID_WINDOW = timedelta(hours=env.int("VOUCHER_VOID_WINDOW_HOURS", default=24))
VOUCHER_MAX_REDEMPTION_CENTS = env.int("VOUCHER_MAX_REDEMPTION_CENTS", default=100_000)
# How long a redemption waits for a voucher's (or the payable's) row lock before answering 409 lock_timeout.
# 0: the connection's lock timeout (DATABASE_LOCK_TIMEOUT_SECONDS, or the role's when that is 0).
VOUCHER_LOCK_TIMEOUT_MS = env.int("VOUCHER_LOCK_TIMEOUT_MS", default=3000)
VOUCHER_REMINDER_DAYS = env.int("VOUCHER_REMINDER_DAYS", default=14)
VOUCHER_BULK_MAX_ROWS = env.int("VOUCHER_BULK_MAX_ROWS", default=20_000)
# The platform's voucher day: settlement business days, default attestation dates.
VOUCHER_TIME_ZONE = env.str("VOUCHER_TIME_ZONE", default="Australia/Sydney")
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "VoucherStateEnum": "vouchers.models.VoucherState",
        "BeneficiaryKindEnum": "vouchers.models.BeneficiaryKind",
        "UseRuleEnum": "vouchers.models.UseRule",
        "ExpiryRuleEnum": "vouchers.models.ExpiryRule",
        "AttestationKindEnum": "vouchers.models.AttestationKind",
        "ProviderApprovalStatusEnum": "vouchers.models.ApprovalStatus",
        "VoucherSettlementStatusEnum": "vouchers.models.Settlement.Status",
        "BulkIssueJobStatusEnum": "vouchers.models.BulkIssueJob.Status",
        "VoucherUptakeGroupByEnum": "vouchers.reports.GROUPINGS",
        "VoucherCodeStyleEnum": "vouchers.codes.STYLES",
        "VoucherKeyStatusEnum": "vouchers.tokens.KEY_STATUSES",
    }
)

# --- Outbound webhooks ----------------------------------------------------------
# Private, loopback and link-local targets are refused unless this allows them: `make run` allows
# them (a developer's machine); tests turn it on for their local receiver.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=False)
# Production endpoints must be https (the payloads carry amounts and ids); plain http only where
# private targets are allowed.
WEBHOOKS_REQUIRE_HTTPS = env.bool("WEBHOOKS_REQUIRE_HTTPS", default=not WEBHOOKS_ALLOW_PRIVATE_TARGETS)
WEBHOOKS_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOKS_CONNECT_TIMEOUT_SECONDS", default=3.0)
WEBHOOKS_READ_TIMEOUT_SECONDS = env.float("WEBHOOKS_READ_TIMEOUT_SECONDS", default=5.0)
# After a secret rotation the old secret still signs deliveries (alongside the new one) this long.
WEBHOOKS_SECRET_GRACE_HOURS = env.int("WEBHOOKS_SECRET_GRACE_HOURS", default=24)
WEBHOOKS_MAX_SUBSCRIPTIONS_PER_TENANT = env.int("WEBHOOKS_MAX_SUBSCRIPTIONS_PER_TENANT", default=20)

# --- Metrics (docs/operations.md, Metrics) ---------------------------------------
# /metrics answers a direct connection from these networks (the scraper's, never through the proxy),
# or any caller with one of the bearer tokens. Nothing else: production does not publish it.
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"])
METRICS_BEARER_TOKENS = secret_reader.many("METRICS_BEARER_TOKENS", min_length=32)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "WebhookEventTypeEnum": "core.webhooks.event_types.EVENT_TYPE_CHOICES",
        "WebhookDeliveryStatusEnum": "core.models_webhooks.WebhookDelivery.Status",
    }
)
# Last: tidies what drf-spectacular emits so Spectral and client generators accept it.
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"].append("openapi.hooks.clean_for_generators")

# Last, once every secret is read: with DEBUG off, stop here if any is missing, short or published.
secret_reader.refuse_unsafe()
