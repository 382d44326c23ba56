"""Settings for the API Key Portal, read from the environment (see .env.example).

With nothing set the portal runs on an embedded SQLite database with DEBUG off. Outside
DEBUG it refuses to start without SECRET_KEY, PORTAL_ENCRYPTION_KEYS (or _FILE) and a mail
backend other than the console (EMAIL_URL or EMAIL_BACKEND).
"""

import sys
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

# E-mail (invitations, password resets). EMAIL_URL names the SMTP server, e.g.
# smtp+tls://user:password@mail.example.com:587; EMAIL_BACKEND (a Django backend path)
# overrides the backend it implies, e.g. the file backend that `make run` writes into .env,
# which writes each mail as a file into EMAIL_FILE_PATH. With neither, DEBUG writes mail
# files to var/mail/ and production refuses to start: the console backend would print every
# invitation and password-reset link into the server log.
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="API Key Portal <portal@localhost>")
FILE_EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
CONSOLE_EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
_email_url = env.str("EMAIL_URL", default="")
_email = env.email_url_config(_email_url) if _email_url else {}
EMAIL_BACKEND = (
    env.str("EMAIL_BACKEND", default="") or _email.get("EMAIL_BACKEND") or (FILE_EMAIL_BACKEND if DEBUG else "")
)
# Relative to the project folder unless absolute.
EMAIL_FILE_PATH = str(
    BASE_DIR / (env.str("EMAIL_FILE_PATH", default="") or _email.get("EMAIL_FILE_PATH") or "var/mail")
)
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
if EMAIL_BACKEND in ("", CONSOLE_EMAIL_BACKEND):
    _missing.append(
        "EMAIL_URL (the SMTP server for invitation and password-reset mails, e.g. "
        "smtp+tls://user:password@mail.example.com:587, or filemail:// to write them as files into "
        "EMAIL_FILE_PATH; not the console, which would print their links into the server log)"
    )

if _missing and not DEBUG:
    raise ImproperlyConfigured(
        "Outside DEBUG the portal refuses to start without: "
        + "; ".join(_missing)
        + ". Set them in the environment or in .env (see .env.example)."
        + (
            " `python manage.py generate_encryption_key` prints a new encryption key."
            if not PORTAL_ENCRYPTION_KEYS.strip()
            else ""
        )
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The portal's styled 403 page (a link back, "reload and try again"), never Django's debug one.
CSRF_FAILURE_VIEW = "kernel.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "kernel",
    "accounts",
    "tenants",
    "scopes",
    "apikeys",
    "activity",
    "oauth",
    "notifications",
    "sso",
    "webhooks",
    "usage",
    "gateway",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
]

# Sessions, authentication and messages are Django's, skipped for the token service's public
# endpoints (kernel/middleware.py: TOKEN_SERVICE_PREFIXES), which use none of them; the login
# requirement and every security header apply to all paths.
MIDDLEWARE = [
    # Outermost, so that the request latencies it measures include every other middleware.
    "kernel.metrics.MetricsMiddleware",
    "kernel.logs.RequestLogMiddleware",
    # Outermost but the metrics and the log: it sees every response, the error and outage
    # answers included.
    "kernel.middleware.JsonCharsetMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # After SecurityMiddleware, which redirects every other plain-HTTP request.
    "kernel.middleware.HttpsRequiredMiddleware",
    "kernel.outages.DatabaseOutageMiddleware",
    "kernel.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kernel.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # After CommonMiddleware, which has checked the host; before allauth's SAML views read it.
    "sso.middleware.SamlHostMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "kernel.middleware.AuthenticationMiddleware",
    "kernel.middleware.ControlCharacterPathMiddleware",
    # Idle timeout and absolute lifetime of a login, before anything else sees the user.
    "accounts.sessions.SessionLifetimeMiddleware",
    "kernel.middleware.LoginRequiredMiddleware",
    "kernel.middleware.TimeZoneMiddleware",
    # After AuthenticationMiddleware: the signed-in user's language comes first (docs/i18n.md).
    "kernel.middleware.LanguageMiddleware",
    "kernel.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# The middleware that do nothing on the token service's paths (kernel/middleware.py:
# MACHINE_LANE_PREFIXES): each one skips them, or acts only on views or paths none of them has.
# Those paths are served by a Django handler without them (kernel/lanes.py), which answers
# exactly as the full list does (portal/tests/test_machine_lane.py) with a tenth of a
# millisecond less CPU per token request.
PAGE_ONLY_MIDDLEWARE = [
    "kernel.middleware.SessionMiddleware",  # skips the token service's paths
    "sso.middleware.SamlHostMiddleware",  # /accounts/saml/ only
    "kernel.middleware.AuthenticationMiddleware",  # skips them
    "accounts.sessions.SessionLifetimeMiddleware",  # a signed-in user's session only
    "kernel.middleware.LoginRequiredMiddleware",  # their views are all login_not_required
    "kernel.middleware.TimeZoneMiddleware",  # skips them
    "kernel.middleware.LanguageMiddleware",  # skips them: machine paths answer in English
    "kernel.middleware.MessageMiddleware",  # skips them
    "allauth.account.middleware.AccountMiddleware",  # allauth's flows and /accounts/ 404s only
]
MACHINE_LANE = env.bool("MACHINE_LANE", default=True)

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
# PostgreSQL timeouts, so that an unreachable server, a row lock held elsewhere or a runaway
# query ends in a prompt 503 (kernel/outages.py) instead of a worker stuck until gunicorn kills
# it. Seconds for connecting (libpq's minimum is 2), milliseconds for the others; 0 is no limit.
DB_CONNECT_TIMEOUT = env.int("DB_CONNECT_TIMEOUT", default=3)
DB_STATEMENT_TIMEOUT = env.int("DB_STATEMENT_TIMEOUT", default=3000)
DB_LOCK_TIMEOUT = env.int("DB_LOCK_TIMEOUT", default=2000)
# The server enforces those two; a frozen server enforces nothing. The portal's own limit on
# every wait for an answer (kernel/postgresql/waits.py), a second above the statement timeout
# so that a working server's timeout comes first: with the defaults a frozen server is
# answered 503 within 4 s.
DB_CLIENT_TIMEOUT = env.int("DB_CLIENT_TIMEOUT", default=DB_STATEMENT_TIMEOUT + 1000 if DB_STATEMENT_TIMEOUT else 0)
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _db_options.setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
    # A server host that vanishes (power, network) sends nothing more: TCP keepalives find an
    # idle connection dead in 10 + 3 x 3 s, tcp_user_timeout gives up on data unacknowledged for
    # DB_CLIENT_TIMEOUT. Values given in DATABASE_URL (?keepalives_idle=60) win.
    for _name, _value in {
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 3,
        "keepalives_count": 3,
        "tcp_user_timeout": DB_CLIENT_TIMEOUT,
    }.items():
        _db_options.setdefault(_name, _value)
    # Server settings for the session; `options` given in DATABASE_URL come after, so they win.
    _timeouts = f"-c statement_timeout={DB_STATEMENT_TIMEOUT} -c lock_timeout={DB_LOCK_TIMEOUT}"
    _db_options["options"] = f"{_timeouts} {_db_options.get('options', '')}".strip()
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _db_options.setdefault("timeout", 20)  # the busy timeout, in seconds
    _db_options.setdefault("transaction_mode", "IMMEDIATE")
    # SQLite cannot make the usage roll-ups' NULLS NOT DISTINCT unique constraint; the flush
    # does not rely on it there (usage/flush.py updates, then inserts), so the warning is noise.
    SILENCED_SYSTEM_CHECKS = ["models.W047"]
# While the database is down: the Retry-After of 503 answers (seconds), and how often each
# process logs a kind of failure again (seconds).
OUTAGE_RETRY_AFTER = env.int("OUTAGE_RETRY_AFTER", default=5)
OUTAGE_LOG_INTERVAL = env.int("OUTAGE_LOG_INTERVAL", default=60)
# gunicorn's gthread workers serve a request per thread (gunicorn.conf.py). On PostgreSQL
# each worker process draws connections from a pool of at most DATABASE_POOL_MAX_SIZE, so
# the server holds workers x that many however many threads it has (a persistent
# connection per thread could exceed max_connections). 0: no pool, CONN_MAX_AGE per thread.
DATABASE_POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", default=8)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_POOL_MAX_SIZE > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(2, DATABASE_POOL_MAX_SIZE),
        "max_size": DATABASE_POOL_MAX_SIZE,
        # Seconds a request waits for a connection: while the database is down every request
        # waits this long before it fails, so keep it short.
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=2),
        # A failed connection attempt is retried at once, then left to the next request, not
        # retried in the background with a growing delay: service resumes as soon as the
        # database is back.
        "reconnect_timeout": 0,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with pool health checks that skip the empty query while a connection is
    # busy and sound, and that replace every connection a server restart ended at once (with
    # CONN_HEALTH_CHECKS alone, requests time out for a while then): kernel/postgresql/base.py.
    DATABASES["default"]["ENGINE"] = "kernel.postgresql"
    # Parameters are bound on the server (psycopg's own way; Django binds on the client unless
    # told), so that a statement can be prepared: PostgreSQL then parses and plans the token
    # request's statements once per connection, not on every request (docs/fast-path.md).
    _db_options.setdefault("server_side_binding", True)
    # A statement is prepared on its second execution: Django's schema editor sends some
    # statements of several commands, which PostgreSQL cannot prepare (a threshold of 0 would
    # prepare them on the first, and migrations would fail). Off behind a connection pooler in
    # transaction mode that cannot keep prepared statements (PgBouncer before 1.21, or without
    # max_prepared_statements).
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        _db_options.setdefault("prepare_threshold", 1)

# The cache holds only rate-limit counters, and is an accelerator, not a dependency: a Redis
# that is down or frozen costs a request at most CACHE_TIMEOUT_MS (redis-py's default is 5 s)
# before kernel.ratelimit counts in process memory instead. Sessions live in the database.
CACHE_TIMEOUT_MS = env.int("CACHE_TIMEOUT_MS", default=200)


def cache_config(url: str) -> dict:
    """Django's settings for the cache at `url`; a Redis client gets CACHE_TIMEOUT_MS to
    connect and to answer (and redis-py, given a pool, does not retry)."""
    config = env.cache_url_config(url)
    if config["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        timeout = CACHE_TIMEOUT_MS / 1000
        config.setdefault("OPTIONS", {}).update(socket_connect_timeout=timeout, socket_timeout=timeout)
    return config


CACHES = {"default": cache_config(env.str("CACHE_URL", default="locmemcache://portal"))}
SESSION_ENGINE = "django.contrib.sessions.backends.db"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # E-mail and password (USERNAME_FIELD is the e-mail): the Django admin's form and allauth's.
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Failed logins (portal and /admin/login/) allowed per window (seconds) per (e-mail, client
# address) and per client address; a correct password from another address is never refused.
LOGIN_FAILURE_LIMIT_PER_EMAIL = env.int("LOGIN_FAILURE_LIMIT_PER_EMAIL", default=10)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env.int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", default=100)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=900)
# Failed second-factor codes, re-authentications and current-password checks per user per
# LOGIN_FAILURE_WINDOW (also per client address, with LOGIN_FAILURE_LIMIT_PER_ADDRESS).
ACCOUNT_FAILURE_LIMIT_PER_USER = env.int("ACCOUNT_FAILURE_LIMIT_PER_USER", default=5)
# Password reset mails asked for per e-mail and per client address per window (seconds).
PASSWORD_RESET_LIMIT_PER_EMAIL = env.int("PASSWORD_RESET_LIMIT_PER_EMAIL", default=5)
PASSWORD_RESET_LIMIT_PER_ADDRESS = env.int("PASSWORD_RESET_LIMIT_PER_ADDRESS", default=20)
PASSWORD_RESET_WINDOW = env.int("PASSWORD_RESET_WINDOW", default=900)
# Secret reveals and copies (the secret endpoint) per portal user per window (seconds).
SECRET_SHOW_LIMIT_PER_USER = env.int("SECRET_SHOW_LIMIT_PER_USER", default=30)
SECRET_SHOW_WINDOW = env.int("SECRET_SHOW_WINDOW", default=60)
LOGIN_REDIRECT_URL = "home"
# Days an invitation link works; a resend mails a new link with a new expiry.
INVITATION_LIFETIME_DAYS = env.int("INVITATION_LIFETIME_DAYS", default=7)
# Who may add a tenant in the portal (the Tenant List's form): "staff-and-admins" (staff, and
# people who are already an admin of a tenant), "staff", or "everyone" (any logged-in user, a
# viewer included; `make run`'s demo). Operators' API keys and `manage.py create_tenant` are
# not limited by it.
TENANT_CREATORS_CHOICES = ("staff-and-admins", "staff", "everyone")
TENANT_CREATORS = env.str("TENANT_CREATORS", default="") or "staff-and-admins"  # empty: the default
if TENANT_CREATORS not in TENANT_CREATORS_CHOICES:
    raise ImproperlyConfigured(
        f"TENANT_CREATORS must be one of {', '.join(TENANT_CREATORS_CHOICES)}, not {TENANT_CREATORS!r}."
    )
# Hourly limits (fixed windows of ABUSE_LIMIT_WINDOW seconds, kernel.ratelimit) on what sends mail or
# creates tenants: tenants a person adds; invitations (sent or resent) per sender (a person, or
# an API key) and per tenant. Past one, the page or the API answers 429 with Retry-After.
TENANT_CREATION_LIMIT_PER_USER = env.int("TENANT_CREATION_LIMIT_PER_USER", default=5)
INVITATION_LIMIT_PER_SENDER = env.int("INVITATION_LIMIT_PER_SENDER", default=20)
INVITATION_LIMIT_PER_TENANT = env.int("INVITATION_LIMIT_PER_TENANT", default=50)
ABUSE_LIMIT_WINDOW = env.int("ABUSE_LIMIT_WINDOW", default=3600)
LOGOUT_REDIRECT_URL = "login"

# --- Accounts (django-allauth: account, mfa, usersessions) ---------------------------------
# E-mail and password logins only: no usernames, no self-service sign-up (people are added
# to tenants), no e-mail management (the address an admin added is the account).
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False  # the session cookie ends with the browser; see SESSION_* below
ACCOUNT_LOGOUT_ON_GET = False  # logging out is a POST
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False  # no mail to addresses without an account
ACCOUNT_EMAIL_NOTIFICATIONS = True  # password changed, authenticator added or removed, ...
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[API Key Portal] "
# Reset links are signed over the account's id, password hash, last login and e-mail (Django's
# generator): no query. allauth's adds every EmailAddress row of the account, with a query, and
# creates the row on the way when it is missing, which made a reset for an existing account
# cost more than one for an unknown address (accounts.forms.ResetPasswordForm, issue 18); the
# portal has no e-mail management, so the account's one address is all there is to sign.
ACCOUNT_PASSWORD_RESET_TOKEN_GENERATOR = "django.contrib.auth.tokens.PasswordResetTokenGenerator"
ACCOUNT_FORMS = {
    "login": "accounts.forms.LoginForm",
    "reauthenticate": "accounts.forms.ReauthenticateForm",
    "change_password": "accounts.forms.ChangePasswordForm",
    "reset_password": "accounts.forms.ResetPasswordForm",
}
# allauth's own rate limits are off: they count in Django's cache directly (a Redis outage
# would turn a login into a 500) and its "login_failed" counts per e-mail alone (anyone could
# lock an address out from everywhere). Logins, second factors, re-authentication, password
# changes and reset mails are limited by accounts.throttle instead (kernel.ratelimit: per
# address and per e-mail or user, with the in-process fallback).
ACCOUNT_RATE_LIMITS = False
MFA_RATE_LIMITS = False
# Re-authentication ("sudo mode"): how long (seconds) a login, a re-authentication or a password
# just chosen counts as recent for accounts.reauth.recent_auth_required; allauth's MFA pages
# (the authenticator app, passkeys, recovery codes) ask on the same rule (accounts.adapter).
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("REAUTHENTICATION_TIMEOUT", default=600)
ACCOUNT_REAUTHENTICATION_METHODS = {"password", "mfa"}
# Where someone with neither a password nor a second factor (an account made by single sign-on)
# proves who they are again: signing in through their tenant's identity provider (sso/).
REAUTHENTICATION_FALLBACK_URL = "sso:start"

MFA_ADAPTER = "accounts.adapter.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_FORMS = {
    "authenticate": "accounts.forms.AuthenticateForm",
    "reauthenticate": "accounts.forms.MFAReauthenticateForm",
    "add_webauthn": "accounts.forms.AddPasskeyForm",
    "login_webauthn": "accounts.forms.LoginPasskeyForm",
    "authenticate_webauthn": "accounts.forms.AuthenticatePasskeyForm",
    "reauthenticate_webauthn": "accounts.forms.ReauthenticatePasskeyForm",
}
MFA_TOTP_ISSUER = "API Key Portal"
MFA_TOTP_TOLERANCE = 1  # one 30-second step either side, for clocks that drift
MFA_RECOVERY_CODES_SHOW_ONCE = True
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_PASSKEY_SIGNUP_ENABLED = False
# WebAuthn needs a secure context; browsers count http://localhost and 127.0.0.1 as one, so
# this stays off (the browser tests run on 127.0.0.1). Never on in production.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env.bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", default=False)

# Single sign-on per tenant (sso/, docs/sso.md): allauth's social accounts with its
# openid_connect provider, one app per tenant built from the tenant's settings (sso.adapter), no
# app in SOCIALACCOUNT_PROVIDERS or in allauth's SocialApp table. People the tenant's provider
# admits get an account and a membership; nothing else signs up.
SOCIALACCOUNT_ADAPTER = "sso.adapter.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # linking by address is sso.adapter's, for proved domains only
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_LOGIN_ON_GET = False  # a sign-in starts with the POST of "Sign in with SSO"
SOCIALACCOUNT_STORE_TOKENS = False  # the provider's tokens are used once, never kept
SOCIALACCOUNT_REQUESTS_TIMEOUT = env.int("SSO_REQUESTS_TIMEOUT", default=5)
# Providers on loopback (tests, development) and in private networks (an internal provider):
# off, the portal reaches public https addresses only (sso/addresses.py).
SSO_ALLOW_LOOPBACK = env.bool("SSO_ALLOW_LOOPBACK", default=False)
SSO_ALLOW_PRIVATE_NETWORKS = env.bool("SSO_ALLOW_PRIVATE_NETWORKS", default=False)
# Where claimed domains' TXT records are looked up: `host:port` resolvers (empty: the system's).
SSO_DNS_RESOLVERS = env.list("SSO_DNS_RESOLVERS", default=[])
SSO_DNS_TIMEOUT = env.float("SSO_DNS_TIMEOUT", default=5.0)
# How long a sign-in through a tenant's provider opens a tenant that requires it (and counts
# its MFA claims): then the person signs in through the provider again, which checks that it
# still admits them (seconds).
SSO_SESSION_MAX_AGE = env.int("SSO_SESSION_MAX_AGE", default=3600)
# "Sign in with SSO" started per client address per window (seconds); then 429.
SSO_START_LIMIT_PER_ADDRESS = env.int("SSO_START_LIMIT_PER_ADDRESS", default=30)
SSO_START_WINDOW = env.int("SSO_START_WINDOW", default=300)

# Last seen is kept by accounts.sessions (at most one write a minute per session), not by
# allauth's per-request tracking.
USERSESSIONS_TRACK_ACTIVITY = False
# A login ends after SESSION_IDLE_TIMEOUT seconds without a request, and SESSION_ABSOLUTE_LIFETIME
# seconds after it began, whatever happens (accounts.sessions.SessionLifetimeMiddleware).
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_ABSOLUTE_LIFETIME = env.int("SESSION_ABSOLUTE_LIFETIME", default=12 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_LIFETIME
# Logins from a browser family and address this user has not logged in from before are mailed
# to them (not the first login ever).
LOGIN_ALERTS = env.bool("LOGIN_ALERTS", default=True)

# Links in mails sent outside a request (notifications from the webhook worker, reminders):
# the portal's public origin, e.g. https://portal.example.com.
PORTAL_URL = env.str("PORTAL_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Webhooks (docs/webhooks.md) --------------------------------------------------------
# Endpoints must be https://; this also allows http://127.0.0.1, http://[::1] and http://localhost
# (tests and development only).
WEBHOOKS_ALLOW_HTTP_LOOPBACK = env.bool("WEBHOOKS_ALLOW_HTTP_LOOPBACK", default=False)
# Deliveries go to public addresses only; on, private networks (10/8, 192.168/16, fc00::/7, ...)
# are allowed too, for an operator whose endpoints are internal (webhooks/addresses.py).
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default=False)
# Seconds a receiver has to answer one POST.
WEBHOOKS_TIMEOUT = env.float("WEBHOOKS_TIMEOUT", default=10)
# Seconds to wait after the 1st, 2nd, ... failed attempt (the last value repeats), and how many
# attempts a delivery gets before it is marked failed.
WEBHOOKS_BACKOFF = env.list("WEBHOOKS_BACKOFF", cast=int, default=[5, 30, 120, 600, 3600, 6 * 3600, 12 * 3600])
WEBHOOKS_MAX_ATTEMPTS = env.int("WEBHOOKS_MAX_ATTEMPTS", default=8)
# A worker that claimed a delivery and died: the delivery is due again after this many seconds
# (keep it well above WEBHOOKS_TIMEOUT).
WEBHOOKS_LEASE_SECONDS = env.int("WEBHOOKS_LEASE_SECONDS", default=60)
# `webhooks_deliver --forever`: seconds between looks at the queue when it is empty.
WEBHOOKS_POLL_INTERVAL = env.float("WEBHOOKS_POLL_INTERVAL", default=2)
# Failed attempts in a row after which the tenant's admins are mailed, once until a success.
WEBHOOKS_FAILURE_NOTICE_AFTER = env.int("WEBHOOKS_FAILURE_NOTICE_AFTER", default=5)
# Days events and their delivery logs are kept once delivered or failed (the worker purges hourly).
WEBHOOKS_RETENTION_DAYS = env.int("WEBHOOKS_RETENTION_DAYS", default=30)
# The Webhooks page warns when no delivery worker has written a heartbeat for this many minutes
# (a worker beats on every pass of its loop; a pass may take a batch of slow deliveries).
WEBHOOKS_WORKER_STALE_MINUTES = env.int("WEBHOOKS_WORKER_STALE_MINUTES", default=5)

# Usage per key (kernel/usage.py, usage/; docs/usage.md): counted in process memory on the hot
# paths, handed to Redis (CACHE_URL) or, without a shared cache, straight to the roll-ups every
# USAGE_PUSH_SECONDS; `usage_flush --forever` moves Redis's counts into PostgreSQL every
# USAGE_FLUSH_SECONDS and prunes the roll-ups past their retention.
USAGE_COUNTING = env.bool("USAGE_COUNTING", default=True)
USAGE_PUSH_SECONDS = env.float("USAGE_PUSH_SECONDS", default=1)
USAGE_FLUSH_SECONDS = env.float("USAGE_FLUSH_SECONDS", default=10)
USAGE_KEEP_MINUTES_HOURS = env.int("USAGE_KEEP_MINUTES_HOURS", default=48)
USAGE_KEEP_HOURS_DAYS = env.int("USAGE_KEEP_HOURS_DAYS", default=30)
USAGE_KEEP_DAYS_DAYS = env.int("USAGE_KEEP_DAYS_DAYS", default=400)

# The interface speaks English and German (docs/i18n.md): the user's own setting on My Account,
# else the browser's Accept-Language, else English. Translations live in locale/ (`make messages`).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Hashed, compressed files need `collectstatic` (done by `make run`); the tests and DEBUG use
# plain storage, served from the source folders.
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "kernel.staticstorage.StaticStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or not STATIC_MANIFEST
# Served from the source folders, a file is looked up when asked for rather than every file
# being scanned when the middleware starts (each test client starts it: a sixth of the CPU of
# the tests without browser or outside programs).
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cookies are Secure unless told otherwise (`make run` serves plain HTTP on loopback and
# turns this off in its generated .env).
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
# The language the switch on the signed-out pages chose (docs/i18n.md).
LANGUAGE_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Secure cookies get the __Host- prefix: the browser then takes them only over HTTPS, for
# Path=/ and without a Domain, so no subdomain or plain-HTTP page can set or shadow them.
SESSION_COOKIE_NAME = "__Host-sessionid" if SECURE_COOKIES else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if SECURE_COOKIES else "csrftoken"
SESSION_COOKIE_PATH = "/"
CSRF_COOKIE_PATH = "/"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Where clients send credentials (client secrets, tokens, refresh tokens): with
# SECURE_SSL_REDIRECT on, a plain-HTTP request there is refused with an answer that says HTTPS is
# required (kernel.middleware.HttpsRequiredMiddleware), never redirected: the credentials have
# crossed in clear already, and a client that follows the redirect would hide the mistake.
# Patterns as SECURE_REDIRECT_EXEMPT's (the path without its leading slash). The API's docs and
# schema carry none and redirect like pages.
HTTPS_REQUIRED_PATHS = [r"^oauth/", r"^customerlogin/", r"^gateway/", r"^api/(?!v1/(?:docs|schema)/)"]
# Health probes come over plain HTTP from the load balancer, even where HTTPS is enforced.
# /metrics too: Prometheus scrapes it over plain HTTP on loopback (a bearer token, from elsewhere,
# is accepted over HTTPS only: kernel/metrics.py).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$", *HTTPS_REQUIRED_PATHS]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if env.str("SECURE_PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = (env.str("SECURE_PROXY_SSL_HEADER"), "https")

# The client address comes from REMOTE_ADDR unless this names the header a trusted proxy
# sets (e.g. X-Forwarded-For); TRUSTED_PROXY_COUNT says how many proxies append to it.
TRUSTED_PROXY_HEADER = env.str("TRUSTED_PROXY_HEADER", default="")
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)

# --- Metrics (docs/metrics.md) -----------------------------------------------------------------
# /metrics answers loopback clients, and with this set, any client that sends it as
# `Authorization: Bearer <METRICS_TOKEN>` (over HTTPS where SECURE_SSL_REDIRECT is on). Empty:
# loopback only. The workers share their values through PROMETHEUS_MULTIPROC_DIR, which
# gunicorn.conf.py sets (a fresh directory per server start) unless the environment does.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# The operator's API that the portal's tokens open: the "Get started" samples add a call to a
# route of it. Empty: the samples call only the portal (token, then /oauth/tokeninfo).
API_BASE_URL = env.str("API_BASE_URL", default="").rstrip("/")

# LOG_FORMAT: "plain" (one readable line per record) or "json" (one JSON object per line, for
# a log pipeline); by default plain when stderr is a terminal, else json (systemd, containers).
LOG_FORMAT = env.str("LOG_FORMAT", default="") or ("plain" if sys.stderr.isatty() else "json")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"()": "kernel.logs.PlainFormatter"},
        "json": {"()": "kernel.logs.JsonFormatter"},
    },
    "filters": {
        "request_id": {"()": "kernel.logs.RequestIdFilter"},
        "hide_outage_responses": {"()": "kernel.outages.HideOutageResponses"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Request lines only; never bodies or headers. Its per-request 503 lines are dropped:
        # kernel.outages reports an outage once per interval.
        "django.request": {"level": "WARNING", "filters": ["hide_outage_responses"]},
        "django.db.backends": {"level": "INFO"},
        # runserver's request lines carry the query string; portal.request logs every request.
        "django.server": {"level": "CRITICAL"},
        # The pool warns on every failed connection attempt; the failing request is logged.
        "psycopg.pool": {"level": "ERROR"},
        # Its DEBUG lines hold whole URLs: a webhook endpoint's query may carry its owner's token.
        "urllib3": {"level": "WARNING"},
    },
}
# --- Token service (oauth app) -----------------------------------------------------------
# Lifetimes in seconds: client-credentials tokens, Storefront anonymous tokens, and the
# anonymous sessions' refresh tokens. session_idle_time is echoed in token responses.
ACCESS_TOKEN_LIFETIME = env.int("ACCESS_TOKEN_LIFETIME", default=3600)
# Public keys of the secret-scanning services allowed to report leaked secrets (oauth/leaks.py):
# a JSON file in the shape GitHub publishes them. Unset: the endpoint answers 404.
SECRET_SCANNING_KEYS_FILE = env.str("SECRET_SCANNING_KEYS_FILE", default="")
# Days before a key's expiry (or its secret's renew-by date) that its tenant's admins are
# reminded by mail, once each (apikeys/hygiene.py, `manage.py key_hygiene`).
KEY_REMINDER_DAYS = tuple(
    sorted({int(day) for day in env.list("KEY_REMINDER_DAYS", default=["14", "3", "1"])}, reverse=True)
)
# A custom key may have a shorter or longer access-token lifetime of its own, up to this.
ACCESS_TOKEN_LIFETIME_MAX = env.int("ACCESS_TOKEN_LIFETIME_MAX", default=86400)
ANONYMOUS_TOKEN_LIFETIME = env.int("ANONYMOUS_TOKEN_LIFETIME", default=3599)
REFRESH_TOKEN_LIFETIME = env.int("REFRESH_TOKEN_LIFETIME", default=86400)
SESSION_IDLE_TIME = env.int("SESSION_IDLE_TIME", default=120)
# JWT access tokens (RFC 9068, oauth/signing.py): which format client-credentials tokens have
# unless a custom key chooses (opaque|jwt), their shorter lifetime (a JWT is checked offline, so
# revocation reaches offline verifiers only when it expires), their audience (default: the
# issuer), how long a new signing key is published before it signs, and the JWKS max-age.
ACCESS_TOKEN_FORMAT = env.str("ACCESS_TOKEN_FORMAT", default="opaque")
if ACCESS_TOKEN_FORMAT not in ("opaque", "jwt"):
    raise ImproperlyConfigured("ACCESS_TOKEN_FORMAT must be 'opaque' or 'jwt'.")
JWT_ACCESS_TOKEN_LIFETIME = env.int("JWT_ACCESS_TOKEN_LIFETIME", default=300)
JWT_AUDIENCE = env.str("JWT_AUDIENCE", default="")
# The `alg` JWTs are signed with (oauth/signing.py): "EdDSA", or RFC 9864's fully specified
# "Ed25519" (the same Ed25519 signature); tokens under either name are accepted.
JWT_ALGORITHM = env.str("JWT_ALGORITHM", default="EdDSA")
if JWT_ALGORITHM not in ("EdDSA", "Ed25519"):
    raise ImproperlyConfigured("JWT_ALGORITHM must be 'EdDSA' or 'Ed25519'.")
JWKS_PUBLISH_AHEAD = env.int("JWKS_PUBLISH_AHEAD", default=3600)
JWKS_MAX_AGE = env.int("JWKS_MAX_AGE", default=300)
# Failed client authentications answered 401 per fixed window (AUTH_FAILURE_WINDOW seconds)
# per (Client ID, client address) and per client address, counted in CACHES["default"]; past
# them failures get 429. A correct secret is never refused. The anonymous login counts its
# failures apart, with the same numbers.
AUTH_FAILURE_LIMIT_PER_CLIENT = env.int("AUTH_FAILURE_LIMIT_PER_CLIENT", default=10)
AUTH_FAILURE_LIMIT_PER_ADDRESS = env.int("AUTH_FAILURE_LIMIT_PER_ADDRESS", default=50)
AUTH_FAILURE_WINDOW = env.int("AUTH_FAILURE_WINDOW", default=300)
# Anonymous logins and refreshes (each writes a token row) per client address per window.
ANONYMOUS_LOGIN_LIMIT_PER_ADDRESS = env.int("ANONYMOUS_LOGIN_LIMIT_PER_ADDRESS", default=300)
ANONYMOUS_LOGIN_WINDOW = env.int("ANONYMOUS_LOGIN_WINDOW", default=60)

# The management API (api/): Django REST framework, authenticated by the portal's own Bearer
# tokens only (api.auth), errors as RFC 9457 problem details, documented by drf-spectacular.
API_RATE_LIMIT_PER_TOKEN = env.int("API_RATE_LIMIT_PER_TOKEN", default=600)
API_RATE_LIMIT_WINDOW = env.int("API_RATE_LIMIT_WINDOW", default=60)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.HasScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API Key Portal management API",
    "DESCRIPTION": "Keys, members, activity and (for operators) tenants, authorized by the portal's own access tokens.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH bodies as their serializers validate them (KeyUpdateRequest's fields are optional,
    # MemberRoleRequest's role is not), not every field made optional.
    "COMPONENT_SPLIT_PATCH": False,
    # Relative: the portal's own origin, whichever the document was fetched from.
    "SERVERS": [{"url": "/", "description": "This portal"}],
    "LICENSE": {"name": "Proprietary"},
    "ENUM_NAME_OVERRIDES": {"RoleEnum": "tenants.models.Role"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_problem_responses",
        "api.schema.add_summaries",
    ],
    "AUTHENTICATION_WHITELIST": [],
}
# Error reports hide the Authorization header, secrets and tokens (POST and query string).
DEFAULT_EXCEPTION_REPORTER_FILTER = "kernel.reporting.SecretHidingReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "kernel.reporting.SecretHidingExceptionReporter"
# --- Gateway check (gateway app) -----------------------------------------------------------
# How long each process keeps a verified access token's answer for the gateway check
# (seconds; 0: ask the database every time). Revoking a token or renewing its key "now" reaches
# the gateway within this bound, which is why it is capped.
GATEWAY_CACHE_MAX_SECONDS = 60
GATEWAY_CACHE_SECONDS = env.int("GATEWAY_CACHE_SECONDS", default=5)
if not 0 <= GATEWAY_CACHE_SECONDS <= GATEWAY_CACHE_MAX_SECONDS:
    raise ImproperlyConfigured(
        f"GATEWAY_CACHE_SECONDS must be between 0 and {GATEWAY_CACHE_MAX_SECONDS}, not {GATEWAY_CACHE_SECONDS}."
    )
# The gateway check's fast lane (gateway/fastlane.py, portal/wsgi.py): a cached allow answered
# before Django, the same answer with the same counts, logs and metrics (docs/fast-path.md).
# Off: every check goes through Django, to compare.
GATEWAY_FAST_LANE = env.bool("GATEWAY_FAST_LANE", default=True)
# The token endpoint's fast lane (oauth/fastlane.py, portal/wsgi.py): a plain client-credentials
# request served before Django by the same service, with the same answer, counts, logs and
# metrics (docs/fast-path.md). Off: every token request goes through Django, to compare.
TOKEN_FAST_LANE = env.bool("TOKEN_FAST_LANE", default=True)
# A method and path the route table does not know is refused (404), unless the path lies under
# one of these prefixes (whole segments: "/my-api" covers /my-api/x, not /my-apix; "/" covers
# every path): there it needs a valid token, of the tenant its tenant segment names where the
# table has one (/tax/{tenant}/...), with any scope (docs/gateway-strict.md).
GATEWAY_PASSTHROUGH_PREFIXES = tuple(env.list("GATEWAY_PASSTHROUGH_PREFIXES", default=[]))
for _prefix in GATEWAY_PASSTHROUGH_PREFIXES:
    _segments = _prefix.strip("/").split("/")
    if (
        not _prefix.startswith("/")
        or any(character in _prefix for character in "?#%;\\ \t")
        or (_prefix != "/" and any(segment in ("", ".", "..") for segment in _segments))
    ):
        raise ImproperlyConfigured(
            f"GATEWAY_PASSTHROUGH_PREFIXES: {_prefix!r} is not a path prefix such as /my-api or /tax "
            "(a leading /, whole segments, no dot or empty segments, no ?, #, %, ; or backslash)."
        )
# GATEWAY_STRICT (deprecated): the gateway is strict now. "on" changes nothing; "off" used to
# let every unknown route through with any valid token, and is refused rather than silently
# kept or dropped, so that the operator chooses the prefixes that pass.
if env.str("GATEWAY_STRICT", default="").strip() and not env.bool("GATEWAY_STRICT"):
    raise ImproperlyConfigured(
        "GATEWAY_STRICT=off is no longer supported: the gateway check refuses (404) a method and path "
        "the route table does not know. Remove GATEWAY_STRICT and name the path prefixes that may pass "
        "in GATEWAY_PASSTHROUGH_PREFIXES (e.g. /my-api; / for every path, as before, but with the "
        "tenant check)."
    )
