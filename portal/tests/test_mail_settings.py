"""Mail settings: outside DEBUG the portal refuses to start unless mail goes somewhere other
than the console (which would print invitation and password-reset links into the server log),
and `make run`'s generated .env sends mail to files. Each case is a fresh process, with the
settings read as `manage.py` and gunicorn read them."""

import re
import subprocess
import sys

import pytest

from conftest import ROOT, free_port, run_manage
from kernel import crypto

SHOW = "from django.conf import settings; print(settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH)"
CONSOLE = "django.core.mail.backends.console.EmailBackend"
FILES = "django.core.mail.backends.filebased.EmailBackend"


@pytest.fixture
def production(tmp_path) -> dict[str, str]:
    """Production settings with their secrets but no mail (empty values hide a local .env's)."""
    return {
        "DEBUG": "off",
        "SECRET_KEY": "x" * 50,
        "PORTAL_ENCRYPTION_KEYS": crypto.generate_encryption_key_entry("m1"),
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "EMAIL_URL": "",
        "EMAIL_BACKEND": "",
        "EMAIL_FILE_PATH": "",
    }


@pytest.mark.parametrize(
    "mail",
    [{}, {"EMAIL_URL": "consolemail://"}, {"EMAIL_BACKEND": CONSOLE}],
    ids=["nothing", "console-url", "console-backend"],
)
def test_outside_debug_the_console_backend_is_refused(production, mail):
    result = run_manage(["check"], {**production, **mail})
    assert result.returncode != 0
    assert "ImproperlyConfigured: Outside DEBUG the portal refuses to start without: EMAIL_URL" in result.stderr
    assert "generate_encryption_key" not in result.stderr  # the keys are there


@pytest.mark.parametrize(
    ("mail", "backend"),
    [
        ({"EMAIL_URL": "smtp+tls://portal:pw@mail.example.com:587"}, "django.core.mail.backends.smtp.EmailBackend"),
        ({"EMAIL_URL": "filemail://", "EMAIL_FILE_PATH": "var/mail"}, FILES),
        ({"EMAIL_BACKEND": FILES}, FILES),
    ],
    ids=["smtp", "files", "file-backend"],
)
def test_outside_debug_smtp_or_files_are_accepted(production, mail, backend):
    result = run_manage(["shell", "-v", "0", "-c", SHOW], {**production, **mail})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [backend, str(ROOT / "var" / "mail")]


def test_in_debug_mail_goes_to_files_unless_told_otherwise(production):
    result = run_manage(["shell", "-v", "0", "-c", SHOW], {**production, "DEBUG": "on"})
    assert result.stdout.split() == [FILES, str(ROOT / "var" / "mail")]
    result = run_manage(["shell", "-v", "0", "-c", SHOW], {**production, "DEBUG": "on", "EMAIL_URL": "consolemail://"})
    assert result.stdout.split()[0] == CONSOLE  # asked for, in DEBUG only


@pytest.mark.outside  # gunicorn (which must exit at once)
def test_gunicorn_does_not_start_with_the_console_backend(production):
    """The refusal is at settings import, so a gunicorn worker fails to boot and the server
    exits instead of serving."""
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", **production, "PORT": str(free_port()), "WEB_CONCURRENCY": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "refuses to start without: EMAIL_URL" in result.stderr


def test_make_runs_env_sends_mail_to_files_and_passes_the_check(tmp_path):
    env_file = tmp_path / ".env"
    subprocess.run([sys.executable, "bin/write-env", str(env_file)], cwd=ROOT, check=True, capture_output=True)
    written = dict(re.findall(r"^([A-Z_]+)=(.*)$", env_file.read_text(), re.M))
    assert written["EMAIL_URL"] == "filemail://" and written["EMAIL_FILE_PATH"] == "var/mail"
    env = {**written, "DEBUG": "off", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "EMAIL_BACKEND": ""}
    result = run_manage(["check"], env)
    assert result.returncode == 0, result.stderr
    assert run_manage(["shell", "-v", "0", "-c", SHOW], env).stdout.split() == [FILES, str(ROOT / "var" / "mail")]


def test_an_older_env_without_mail_settings_gets_them_once(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=kept\n")
    for _ in range(2):
        subprocess.run([sys.executable, "bin/write-env", str(env_file)], cwd=ROOT, check=True, capture_output=True)
    text = env_file.read_text()
    assert text.startswith("SECRET_KEY=kept\n") and text.count("EMAIL_URL=filemail://") == 1
