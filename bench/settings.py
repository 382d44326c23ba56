"""Settings of the benchmark's floor: a bare Django serving one minimal token view
(bench/views.py), to measure /oauth/token against. Never used by the portal.

Only what a token endpoint needs: the portal's models (the same tables, so the same rows and
indexes), a persistent PostgreSQL connection like the portal's, and nothing per request: no
middleware (no sessions, authentication, CSRF, messages or security headers), no templates,
no static files. Read from the environment that bench/token_endpoint.py sets."""

import environ

env = environ.Env()

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="bench-floor-only-secret-key")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

# The portal's apps are installed for their models only: their ready() hooks run once at
# start-up, not per request.
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "kernel",  # the encryption canaries
    "bench.apps.AccountsModelsOnly",
    "bench.apps.TenantsModelsOnly",
    "scopes",
    "apikeys",
    "bench.apps.ActivityModelsOnly",
    "webhooks",  # queues the webhook events of activity entries (activity.signals)
    "notifications",  # the mails of leaked-secret reports (apikeys.leaks)
    "oauth",
]
AUTH_USER_MODEL = "accounts.User"
MIDDLEWARE: list[str] = []
TEMPLATES: list[dict] = []
ROOT_URLCONF = "bench.urls"
WSGI_APPLICATION = "bench.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/portal_bench")}
# Persistent connections, as the portal has (CONN_MAX_AGE); no health check query.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)

USE_I18N = False
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
