"""Vidu Studio settings: one file, everything read from the environment.

Defaults are the embedded default (SQLite, django-q2's ORM broker, media on local
disk, the local simulator as provider); DATABASE_URL, REDIS_URL and the storage
variables scale it out.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from studio.local_files import stored_secret_key
from studio.vidu import registry as vidu_registry

BASE_DIR = Path(__file__).resolve().parent.parent


true_words = ("true", "1", "yes", "on")
false_words = ("false", "0", "no", "off")


def env(name: str, default: str) -> str:
    """NAME from the environment; unset or empty, `default`."""
    return os.environ.get(name, "").strip() or default


def envbool(name: str, default: str) -> bool:
    """A yes or no: true/false, 1/0, yes/no, on/off in any case; anything else (a typo
    such as `ture`) stops the studio rather than being read as false."""
    value = env(name, default).lower()
    if value in true_words:
        return True
    if value in false_words:
        return False
    raise ImproperlyConfigured(
        f"{name}={os.environ.get(name)!r} is not a yes or no: use one of "
        f"{', '.join(true_words)} or {', '.join(false_words)} (any case)."
    )


def envint(name: str, default: str) -> int:
    """A whole number; anything else stops the studio."""
    value = env(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a whole number (such as {default})."
        ) from None


def envfloat(name: str, default: str) -> float:
    """A number, decimals allowed; anything else stops the studio."""
    value = env(name, default)
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a number (such as {default})."
        ) from None


def envsecret(name: str, default: str = "") -> str:
    """A secret from NAME, or from the file named by NAME_FILE (docker/k8s secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


DEBUG = envbool("DEBUG", "False")
# Importing these settings writes nothing: the data directory, the key file and the
# upload folder named here are made when the app starts (studio.local_files).
DATA_DIR = Path(os.environ.get("STUDIO_DATA_DIR", BASE_DIR / "var"))
SECRET_KEY = envsecret("SECRET_KEY")
# Without SECRET_KEY, a random key kept in DATA_DIR: read here when it exists, made on
# the first start otherwise (the same file for every process of the studio).
STUDIO_LOCAL_SECRET_KEY = not SECRET_KEY
if STUDIO_LOCAL_SECRET_KEY:
    SECRET_KEY = stored_secret_key(DATA_DIR)
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
CSRF_FAILURE_VIEW = "studio.web.views.errors.csrf_failure"  # the studio's 403 page, in plain words

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_q",
    "axes",
    "csp",
    "studio",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before anything reads a request's body: refuses one too large, with a message.
    "studio.web.limits.RequestSizeLimit",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "studio.web.urls"
WSGI_APPLICATION = "studio.wsgi.application"

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
                "studio.web.context_processors.studio",
            ],
            # The web layer's template tags, without making the web a Django app of its own.
            "libraries": {"times": "studio.web.templatetags.times"},
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "studio.sqlite3",
            # Kept open between requests, as for DATABASE_URL: opening one costs about a
            # millisecond (PRAGMAs, functions), a third of a cheap poll.
            "CONN_MAX_AGE": 60,
        }
    }
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # READ COMMITTED for every statement of the studio's sessions, named rather than left
    # to the database's default: the budget's lock (studio.budgets.enforce) counts what
    # others committed while it waited, which a REPEATABLE READ snapshot taken before the
    # wait would not show, and under REPEATABLE READ two people's concurrent updates of
    # one row fail instead of queueing. A session setting (libpq's options), so it holds
    # outside transactions too, where psycopg's isolation_level does not reach.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = (
        options.get("options", "") + r" -c default_transaction_isolation=read\ committed"
    ).strip()
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The same for a file named by DATABASE_URL (as the tests give their worker
    # processes): WAL lets the web process read while the worker writes, and with
    # synchronous=NORMAL a commit does not wait for the disk (without WAL, every one
    # waits for several); IMMEDIATE takes the write lock at BEGIN so two writers queue
    # instead of failing. Options given in the URL win.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options.setdefault("timeout", 20)
    options.setdefault("transaction_mode", "IMMEDIATE")
    options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    # A file, not memory: integration tests start worker processes that must open it.
    # One file per test run, so two runs on one machine never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-studio-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "history"
LOGOUT_REDIRECT_URL = "login"

# Wrong passwords are limited by django-axes, on the login page and the admin's: after
# STUDIO_LOGIN_FAILURE_LIMIT for one account from one address, or
# STUDIO_LOGIN_ADDRESS_FAILURE_LIMIT for any accounts from one address, logins from there
# (for that account, or for all) are refused for STUDIO_LOGIN_COOLOFF_MINUTES, counted
# from the last try. Nothing locks an account for everyone: a stranger guessing Alice's
# password elsewhere does not stop her logging in. A right password wipes that account's
# mistakes from that address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("STUDIO_LOGIN_FAILURE_LIMIT", "5")
STUDIO_LOGIN_ADDRESS_FAILURE_LIMIT = envint("STUDIO_LOGIN_ADDRESS_FAILURE_LIMIT", "20")
# In this order: studio.web.logins.LoginAttempts reads the first as the per-account count
# and the second as the per-address one.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "studio.web.logins.LoginAttempts"
AXES_COOLOFF_TIME = timedelta(minutes=envint("STUDIO_LOGIN_COOLOFF_MINUTES", "15"))
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "studio.web.logins.client_address"
AXES_LOCKOUT_CALLABLE = "studio.web.logins.locked_out"
# Kept out of the attempts axes stores and logs (passwords always are).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
MEDIA_URL = "/media-not-served-directly/"  # media goes through permission-checked views

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Static files are few and small: whitenoise serves them straight from static/ when
# collectstatic has not run (make run, tests), and from STATIC_ROOT when it has (Dockerfile).
WHITENOISE_USE_FINDERS = True
if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    # S3-compatible media. django-storages takes the keys from the environment
    # (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); boto3 the endpoint and the region
    # (AWS_ENDPOINT_URL_S3, AWS_DEFAULT_REGION), see docs/deploying.md.
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": os.environ["AWS_STORAGE_BUCKET_NAME"], "querystring_auth": True},
    }

# Uploads: Vidu accepts images up to 50 MB each. A form's text (everything but its files)
# takes up to DATA_UPLOAD_MAX_MEMORY_SIZE: a payload and metadata of 1,048,576 characters
# each at four bytes a character, and a callback carrying such a payload, fit. A request
# over STUDIO_REQUEST_MAX_BYTES (two images and the form) is refused before its body is
# read (studio.web.limits). Uploads over FILE_UPLOAD_MAX_MEMORY_SIZE go to files in
# FILE_UPLOAD_TEMP_DIR, the studio's own, where staging.sweep removes any a killed process
# left behind.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
STUDIO_REQUEST_MAX_BYTES = 2 * 50_000_000 + DATA_UPLOAD_MAX_MEMORY_SIZE + 1024 * 1024
# (made when the app starts; where it cannot be, a read-only data directory, uploads go
# to the system's temporary directory instead).
FILE_UPLOAD_TEMP_DIR = os.environ.get("STUDIO_UPLOAD_TEMP_DIR", str(DATA_DIR / "uploads-tmp"))
# At most this many pictures decoded at once in one process (each within a few tens of
# MB, see studio.images); more wait their turn.
STUDIO_IMAGE_DECODES = envint("STUDIO_IMAGE_DECODES", "2")
# Images kept for unsent forms, per person: the oldest beyond these go first (never one
# the form in hand uses).
STUDIO_STAGED_MAX_PER_PERSON = envint("STUDIO_STAGED_MAX_PER_PERSON", "12")
STUDIO_STAGED_MAX_BYTES_PER_PERSON = envint("STUDIO_STAGED_MAX_BYTES_PER_PERSON", "400000000")

REDIS_URL = os.environ.get("REDIS_URL", "")
# Test processes that run side by side (pytest-xdist names each) share one Redis: each
# keeps its own queue and cache keys, and so do the workers it starts (they inherit both
# variables). django-q2 reads Q_CLUSTER_NAME itself and must find the same name there.
SIDE_BY_SIDE = os.environ.get("PYTEST_XDIST_WORKER", "")
Q_CLUSTER_NAME = os.environ.get("Q_CLUSTER_NAME", "studio")
if SIDE_BY_SIDE and not Q_CLUSTER_NAME.endswith(f"-{SIDE_BY_SIDE}"):
    Q_CLUSTER_NAME = os.environ["Q_CLUSTER_NAME"] = f"{Q_CLUSTER_NAME}-{SIDE_BY_SIDE}"
Q_CLUSTER = {
    "name": Q_CLUSTER_NAME,
    # Jobs mostly wait on the provider and the database, so more workers than cores.
    "workers": envint("Q_WORKERS", "4"),
    "timeout": 600,
    "retry": 900,
    "max_attempts": 1,  # jobs retry themselves with backoff; django-q must not re-run them
    "catch_up": False,
    "ack_failures": True,
    "poll": 0.2,
    # The ORM broker takes up to this many jobs in one query (the queue in front of the
    # workers holds workers² anyway); Redis takes one at a time whatever this says.
    "bulk": 4,
    "guard_cycle": envfloat("Q_GUARD_CYCLE", "0.5"),
    "label": "Tasks",
    # Keep no results of jobs that succeeded: nothing reads them (each job's outcome is
    # in its generation and its events), and keeping the last N means the single result
    # saver reads and locks all N rows after every job. Failures are still kept.
    "save_limit": -1,
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": SIDE_BY_SIDE,
        }
    }
else:
    Q_CLUSTER["orm"] = "default"
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The provider: one of the dialects in studio/vidu/registry.py. Without VIDU_API_KEY the
# studio talks to the local simulator, which then speaks the chosen dialect.
VIDU_PROVIDER = os.environ.get("VIDU_PROVIDER", "official").strip().lower() or "official"
try:
    vidu_registry.check(VIDU_PROVIDER)
except vidu_registry.UnknownProvider as exc:
    raise ImproperlyConfigured(str(exc)) from None
VIDU_SIM_PORT = envint("VIDU_SIM_PORT", "8765")
VIDU_SIM_API_KEY = os.environ.get("VIDU_SIM_API_KEY", "sim-key")
VIDU_API_KEY = envsecret("VIDU_API_KEY")
VIDU_USING_SIMULATOR = not VIDU_API_KEY
if VIDU_API_KEY:
    # The origin (scheme and host); the dialect adds its documented paths.
    VIDU_BASE_URL = os.environ.get("VIDU_BASE_URL", "").strip().rstrip("/") or (
        vidu_registry.default_base_url(VIDU_PROVIDER)
    )
else:
    VIDU_API_KEY = VIDU_SIM_API_KEY
    VIDU_BASE_URL = os.environ.get("VIDU_BASE_URL", "").strip().rstrip("/") or (
        f"http://127.0.0.1:{VIDU_SIM_PORT}"
    )
VIDU_TIMEOUT = envfloat("VIDU_TIMEOUT", "30")
# The worker fetches result videos and covers from public addresses only
# (studio/worker/fetching.py). These are fetched from although private: hosts, host:port,
# addresses or networks, comma separated; by default the local simulator's own address
# when the studio uses it, and none with a real key.
STUDIO_FETCH_PRIVATE_HOSTS = [
    entry.strip()
    for entry in env(
        "STUDIO_FETCH_PRIVATE_HOSTS", urlsplit(VIDU_BASE_URL).netloc if VIDU_USING_SIMULATOR else ""
    ).split(",")
    if entry.strip()
]
# Callbacks: how far the Date header may be from now, in seconds.
VIDU_CALLBACK_MAX_SKEW = envint("VIDU_CALLBACK_MAX_SKEW", "300")

# Base URL the provider can reach us on (callbacks) and that share links use.
STUDIO_PUBLIC_URL = os.environ.get("STUDIO_PUBLIC_URL", "").rstrip("/")
# Tasks at the provider are asked about this often at first (seconds), less often as
# they age; one follower call covers many tasks where the provider allows it.
STUDIO_POLL_SECONDS = envfloat("STUDIO_POLL_SECONDS", "2")
# At most this many calls a second from one follower to one provider connection.
STUDIO_PROVIDER_CALLS_PER_SECOND = envfloat("STUDIO_PROVIDER_CALLS_PER_SECOND", "10")
# A claim older than this (the worker died mid-submit) is recovered by the reconciler.
STUDIO_CLAIM_TIMEOUT = envint("STUDIO_CLAIM_TIMEOUT", "120")
# A copy of a finished video that failed is tried again after this long (for 24 hours).
STUDIO_RESULT_RETRY_SECONDS = envint("STUDIO_RESULT_RETRY_SECONDS", "300")
# First retry waits up to this many seconds, doubling each time (with full jitter).
STUDIO_BACKOFF_BASE = envfloat("STUDIO_BACKOFF_BASE", "1.0")

# HTTPS. STUDIO_HTTPS: plain HTTP is redirected to HTTPS, browsers are told to use only
# HTTPS (HSTS, a year unless STUDIO_HSTS_SECONDS says otherwise) and cookies are sent
# only over HTTPS. STUDIO_BEHIND_PROXY (on with STUDIO_HTTPS unless set): a proxy in front
# ends TLS, so its X-Forwarded-Proto says whether the request was HTTPS, and the login
# limits count the client address it appends to STUDIO_CLIENT_IP_HEADER.
STUDIO_HTTPS = envbool("STUDIO_HTTPS", "false")
STUDIO_BEHIND_PROXY = envbool("STUDIO_BEHIND_PROXY", "true" if STUDIO_HTTPS else "false")
if STUDIO_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if STUDIO_HTTPS:
    SECURE_SSL_REDIRECT = True
    # A load balancer's health check often speaks plain HTTP to the studio directly.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = envint("STUDIO_HSTS_SECONDS", str(365 * 24 * 3600))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("STUDIO_HSTS_INCLUDE_SUBDOMAINS", "false")
    SECURE_HSTS_PRELOAD = envbool("STUDIO_HSTS_PRELOAD", "false")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# The header holding the client's address, the last entry being the one the proxy saw
# (e.g. X-Forwarded-For or X-Real-IP); empty means the connection's own address. Name a
# header only when a proxy in front sets it: a client could write anything there.
STUDIO_CLIENT_IP_HEADER = os.environ.get(
    "STUDIO_CLIENT_IP_HEADER", "X-Forwarded-For" if STUDIO_BEHIND_PROXY else ""
).strip()
# The header is believed only from these addresses (the proxies in front: networks, comma
# separated; loopback and the private ranges unless set). A client reaching the studio
# directly from elsewhere is counted by its own address, whatever it writes there.
STUDIO_TRUSTED_PROXIES = [
    network.strip()
    for network in os.environ.get(
        "STUDIO_TRUSTED_PROXIES",
        "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7",
    ).split(",")
    if network.strip()
]

# Content-Security-Policy (django-csp): scripts, styles and everything else come from the
# studio itself; no inline scripts, handlers or styles. Videos may also come from the
# provider's own links (shown while the studio copies them: HTTPS hosts, or the local
# simulator). No other site may frame a page (the shared player's embed page excepted)
# or receive a form.
media_sources = ["'self'", "https:"]
if VIDU_USING_SIMULATOR and VIDU_BASE_URL.startswith("http://"):
    simulator = urlsplit(VIDU_BASE_URL)
    media_sources.append(f"{simulator.scheme}://{simulator.netloc}")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "media-src": media_sources,
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Error reports (the DEBUG page, error mails) hide the passwords inside DATABASE_URL,
# REDIS_URL, the broker's and the cache's settings too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "studio.web.reporting.StudioReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # No token of a shared, invite or input link, and no signed URL's signature, in a
    # log line (studio/logs.py); gunicorn's access log is redacted the same way.
    "filters": {"redacted": {"()": "studio.logs.RedactedRecords"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redacted"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # its start-up line, once per process, is noise
        # A line per job; `make run` sets WARNING so they do not bury its login line.
        "django-q": {"level": os.environ.get("Q_LOG_LEVEL", "INFO")},
    },
}

# The job queue's watchdog (studio/worker/health.py): a job waiting this long while none runs
# means the queue is stalled (/healthz answers 503, `make run` restarts the worker),
# and `make run` sends a probe job through the queue this often.
STUDIO_STALL_SECONDS = envint("STUDIO_STALL_SECONDS", "30")
STUDIO_PROBE_SECONDS = envint("STUDIO_PROBE_SECONDS", "5")
