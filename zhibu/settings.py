"""Settings, all from the environment; see README (配置) for the variables."""

from __future__ import annotations

import os
import sys

import dj_database_url

from zhibu.instance import REPO_ROOT, field_keys, instance_dir, secret_key

TESTING = "pytest" in sys.modules or os.environ.get("ZHIBU_TESTING") == "1"
if TESTING and not os.environ.get("ZHIBU_INSTANCE_DIR"):
    # The suite never touches a real installation's keys or database.
    os.environ["ZHIBU_INSTANCE_DIR"] = str(REPO_ROOT / "instance" / "test")
INSTANCE_DIR = instance_dir()

SECRET_KEY = secret_key(INSTANCE_DIR)
FIELD_ENCRYPTION_KEYS = field_keys(INSTANCE_DIR)
DEBUG = os.environ.get("ZHIBU_DEBUG", "0") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("ZHIBU_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
if TESTING:
    ALLOWED_HOSTS += ["testserver"]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("ZHIBU_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "ninja",  # only for the Swagger UI files it ships: the docs page never loads a CDN
    "axes",
    "django_tasks",
    "django_tasks_db",
    "zhibu.core",
    "zhibu.accounts",
    "zhibu.orgs",
    "zhibu.people",
    "zhibu.compliance",
    "zhibu.development",
    "zhibu.life",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "zhibu.core.middleware.RejectUnstorableInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "zhibu.core.scoping.ScopeMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "zhibu.urls"
WSGI_APPLICATION = "zhibu.wsgi.application"

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
                "zhibu.core.context.zhibu_context",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# ZHIBU_DATABASE_URL chooses the database: a SQLite file in the instance folder by default,
# or e.g. postgres://user:pass@127.0.0.1:5432/zhibu for PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("ZHIBU_DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'zhibu.sqlite3'}",
        conn_max_age=0 if TESTING else 60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PRODUCTION_PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
PASSWORD_HASHERS = PRODUCTION_PASSWORD_HASHERS
if TESTING:
    # Argon2 stays the production hasher (a test checks it); the suite only needs speed.
    PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Failed logins: 5 failures for one username from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("ZHIBU_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = os.environ.get("ZHIBU_SECURE_COOKIES", "0") == "1"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = INSTANCE_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = INSTANCE_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if TESTING or DEBUG
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = TESTING or DEBUG

# Uploads: 10 MB is far above any real registry file and keeps a hostile upload from filling memory.
ZHIBU_MAX_UPLOAD_BYTES = int(os.environ.get("ZHIBU_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Meeting check-in (签到) by QR code: the window opens this many minutes before a meeting starts and closes
# at its end, or this many hours after its start when no end was given. Habits, not regulation: the
# members arrive early, and a meeting without an announced end rarely runs past half a day.
ZHIBU_CHECK_IN_OPENS_MINUTES = int(os.environ.get("ZHIBU_CHECK_IN_OPENS_MINUTES", "60"))
ZHIBU_CHECK_IN_OPEN_HOURS = int(os.environ.get("ZHIBU_CHECK_IN_OPEN_HOURS", "4"))
# The hour a meeting placed by the yearly plan starts at (the secretary changes single meetings).
ZHIBU_MEETING_DEFAULT_TIME = os.environ.get("ZHIBU_MEETING_DEFAULT_TIME", "15:00")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ZHIBU_LOG_LEVEL", "WARNING")},
}

# Background tasks (reminders, nightly evaluation): Django's tasks API with the database backend.
# `zhibu worker` runs them; `zhibu run` starts one worker beside the web server.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# Local hours (Asia/Shanghai) from which the worker enqueues the two daily tasks, once per day each.
ZHIBU_NIGHTLY_HOUR = int(os.environ.get("ZHIBU_NIGHTLY_HOUR", "2"))
ZHIBU_REMINDER_HOUR = int(os.environ.get("ZHIBU_REMINDER_HOUR", "7"))

# E-mail reminders: only when ZHIBU_SMTP_HOST is set; otherwise reminders are in-app only.
EMAIL_HOST = os.environ.get("ZHIBU_SMTP_HOST", "")
EMAIL_PORT = int(os.environ.get("ZHIBU_SMTP_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("ZHIBU_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("ZHIBU_SMTP_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("ZHIBU_SMTP_TLS", "1") == "1"
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = os.environ.get("ZHIBU_SMTP_FROM", "") or EMAIL_HOST_USER or "zhibu@localhost"
ZHIBU_EMAIL_ENABLED = bool(EMAIL_HOST)
ZHIBU_EMAIL_MAX_ATTEMPTS = int(os.environ.get("ZHIBU_EMAIL_MAX_ATTEMPTS", "4"))
