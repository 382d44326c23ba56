"""Settings for the API Key Portal, read from the environment (see .env.example).

With nothing set the portal runs on an embedded SQLite database with DEBUG off. Outside
DEBUG it refuses to start without SECRET_KEY and PORTAL_ENCRYPTION_KEYS (or _FILE).
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env (git-ignored, written by `make run`) is read when present; real environment
# variables win over it.
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

_missing = []
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG:
        # Only sessions and CSRF tokens depend on it; nothing secret is derived from it.
        SECRET_KEY = "insecure-debug-only-secret-key-do-not-use-in-production"
    else:
        _missing.append("SECRET_KEY")

# Encryption keys for stored API secrets: "id:base64key,id:base64key" (the first encrypts,
# all decrypt), or a file with one "id:base64key" per line. Never derived from SECRET_KEY.
PORTAL_ENCRYPTION_KEYS = env.str("PORTAL_ENCRYPTION_KEYS", default="")
PORTAL_ENCRYPTION_KEYS_FILE = env.str("PORTAL_ENCRYPTION_KEYS_FILE", default="")
if not PORTAL_ENCRYPTION_KEYS and PORTAL_ENCRYPTION_KEYS_FILE:
    try:
        PORTAL_ENCRYPTION_KEYS = Path(PORTAL_ENCRYPTION_KEYS_FILE).read_text()
    except OSError as exc:
        raise ImproperlyConfigured(f"PORTAL_ENCRYPTION_KEYS_FILE cannot be read: {exc.strerror}") from None
if not PORTAL_ENCRYPTION_KEYS.strip():
    _missing.append("PORTAL_ENCRYPTION_KEYS (or PORTAL_ENCRYPTION_KEYS_FILE)")

if _missing and not DEBUG:
    raise ImproperlyConfigured(
        "The portal refuses to start without its secrets. Missing: "
        + ", ".join(_missing)
        + ". Set them in the environment or in .env (see .env.example); "
        "`python manage.py generate_encryption_key` prints a new encryption key."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "accounts",
    "tenants",
    "scopes",
    "apikeys",
    "activity",
    "oauth",
]

# Sessions, authentication and messages are Django's, skipped for the token service's public
# endpoints (portal/middleware.py: TOKEN_SERVICE_PREFIXES), which use none of them; the login
# requirement and every security header apply to all paths.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "portal.middleware.AuthenticationMiddleware",
    "portal.middleware.LoginRequiredMiddleware",
    "portal.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"

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
                "tenants.context_processors.tenant_switcher",
            ],
        },
    },
]

WSGI_APPLICATION = "portal.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Persistent connections: a new PostgreSQL connection per request costs most of the
# token endpoint's throughput.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's, with health checks that skip the SELECT 1 while a connection is busy and sound.
    DATABASES["default"]["ENGINE"] = "portal.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://portal")}

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Failed portal logins allowed per window (seconds) per e-mail address and per client address.
LOGIN_FAILURE_LIMIT_PER_EMAIL = env.int("LOGIN_FAILURE_LIMIT_PER_EMAIL", default=10)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env.int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", default=100)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=900)
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files need `collectstatic` (done by `make run`); the tests and
        # DEBUG use plain storage.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or not env.bool("STATIC_MANIFEST", default=not DEBUG)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="API Key Portal <portal@localhost>")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email("EMAIL_URL"))

# Cookies are Secure unless told otherwise (`make run` serves plain HTTP on loopback and
# turns this off in its generated .env).
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
if env.str("SECURE_PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = (env.str("SECURE_PROXY_SSL_HEADER"), "https")

# The client address comes from REMOTE_ADDR unless this names the header a trusted proxy
# sets (e.g. X-Forwarded-For); TRUSTED_PROXY_COUNT says how many proxies append to it.
TRUSTED_PROXY_HEADER = env.str("TRUSTED_PROXY_HEADER", default="")
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)

# Base URL shown in the "Get started" samples; empty means the portal's own origin.
API_BASE_URL = env.str("API_BASE_URL", default="").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Request lines only; never bodies or headers.
        "django.request": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
    },
}

# --- Token service (oauth app) -----------------------------------------------------------
# Lifetimes in seconds: client-credentials tokens, Storefront anonymous tokens, and the
# anonymous sessions' refresh tokens. session_idle_time is echoed in token responses.
ACCESS_TOKEN_LIFETIME = env.int("ACCESS_TOKEN_LIFETIME", default=3600)
ANONYMOUS_TOKEN_LIFETIME = env.int("ANONYMOUS_TOKEN_LIFETIME", default=3599)
REFRESH_TOKEN_LIFETIME = env.int("REFRESH_TOKEN_LIFETIME", default=86400)
SESSION_IDLE_TIME = env.int("SESSION_IDLE_TIME", default=120)
# Failed client authentications allowed per fixed window (AUTH_FAILURE_WINDOW seconds) per
# Client ID and per client address, counted in CACHES["default"]; past them: 429.
AUTH_FAILURE_LIMIT_PER_CLIENT = env.int("AUTH_FAILURE_LIMIT_PER_CLIENT", default=10)
AUTH_FAILURE_LIMIT_PER_ADDRESS = env.int("AUTH_FAILURE_LIMIT_PER_ADDRESS", default=50)
AUTH_FAILURE_WINDOW = env.int("AUTH_FAILURE_WINDOW", default=300)
# Error reports hide the Authorization header, secrets and tokens (POST and query string).
DEFAULT_EXCEPTION_REPORTER_FILTER = "oauth.reporting.SecretHidingReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "oauth.reporting.SecretHidingExceptionReporter"
