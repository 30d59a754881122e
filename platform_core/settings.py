"""Django settings of a Joule project, built from joule.toml and the environment.

Services are installed apps found on disk; nothing here lists them. Values
come from ``platform_core.config`` (the only reader of files and env)::

    JOULE_DEBUG=1          DEBUG (on by default under runserver)
    JOULE_SECRET_KEY=...   SECRET_KEY (else one is kept in var/secret_key)
    DATABASE_URL=...       the platform database (else joule.toml, else SQLite)
"""

from __future__ import annotations

import secrets

from platform_core.authorization.ldap import ldap_settings
from platform_core.config import env, get_config
from platform_core.db.connections import databases
from platform_core.discovery import installed_apps
from platform_core.observability.logs import build_logging

CONFIG = get_config()
BASE_DIR = CONFIG.root
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)


def _secret_key() -> str:
    key = env("JOULE_SECRET_KEY", default=None)
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env("JOULE_DEBUG", cast=bool, default=False)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = list(CONFIG.server.allowed_hosts)

INSTALLED_APPS = [
    # First, so its commands (runserver) win over daphne's and Django's.
    "platform_core.apps.PlatformCoreConfig",
    "daphne",
    "platform_core.apps.JouleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "graphene_django",
    "channels",
    "guardian",
    *installed_apps(CONFIG),
]
# django-guardian: object permissions for users only (no "AnonymousUser" row).
ANONYMOUS_USER_NAME = None

MIDDLEWARE = [
    "platform_core.gateway.routing.urlconfs.ServiceRoutingMiddleware",
    "platform_core.observability.requests.RequestContextMiddleware",
    "platform_core.exceptions.JsonErrorMiddleware",
    # With [server] https: the mesh, frontends and probes are not redirected.
    "platform_core.gateway.security.LocalCallersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (admin, Swagger UI) from the apps' folders, in every mode.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "platform_core.authorization.middleware.CredentialsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# [server] https: the public URL is https:// (TLS here or at a proxy).
if CONFIG.server.https:
    SECURE_SSL_REDIRECT = True
    # Probes (kubelet, load balancers) ask over plain HTTP; a 301 is no answer.
    SECURE_REDIRECT_EXEMPT = [r"^_joule/(health|ready)$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# [server] trusted_proxies: a TLS-terminating proxy says https in
# X-Forwarded-Proto. Django cannot trust it per address: with any proxy
# named, the header is believed from every client, so only the proxies may
# reach the server (gunicorn's forwarded_allow_ips takes the same list).
if CONFIG.server.trusted_proxies:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logins: Django's users, and LDAP's when [ldap] is in joule.toml.
globals().update(ldap_settings(CONFIG.ldap))
LOGIN_URL = "/_joule/login"
LOGIN_REDIRECT_URL = "/_joule/"
LOGOUT_REDIRECT_URL = "/_joule/login"

ROOT_URLCONF = "platform_core.urls"
ASGI_APPLICATION = "platform_core.asgi.application"
WSGI_APPLICATION = "platform_core.wsgi.application"

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
            ]
        },
    }
]

DATABASES = databases(CONFIG)
DATABASE_ROUTERS = ["platform_core.db.connections.ServiceDatabaseRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Messages a consumer may have waiting (each subscriber's events) before
# more are dropped; the layers' default of 100 is too few for bursts of writes.
CHANNEL_CAPACITY = 1000
if CONFIG.channels.redis:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "platform_core.events.redis_layer.RedisChannelLayer",
            "CONFIG": {
                "hosts": [CONFIG.channels.redis],
                "prefix": CONFIG.channels.prefix,
                "capacity": CHANNEL_CAPACITY,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": CHANNEL_CAPACITY},
        }
    }

REST_FRAMEWORK = {
    "EXCEPTION_HANDLER": "platform_core.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Joule",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["platform_core.rest.openapi.drop_slash_duplicates"],
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True  # no collectstatic step needed
APPEND_SLASH = False
CSRF_FAILURE_VIEW = "platform_core.exceptions.csrf_failure"

LOGGING = build_logging(CONFIG.logging)
