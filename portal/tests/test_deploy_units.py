"""deploy/systemd agrees with deploy/nginx and with `make run`: gunicorn started the same way, on
the socket nginx connects to, every worker `make run` starts with a unit of its own, as an unprivileged user, restarted on failure, hardened; and the
production settings file they read passes `check --deploy`."""

import configparser
import importlib.machinery
import re
import secrets
import shlex
import subprocess
import sys
import types
from pathlib import Path

import pytest

from kernel import crypto
from portal.tests.serving import ROOT

SYSTEMD = ROOT / "deploy" / "systemd"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read_string((SYSTEMD / name).read_text())
    return parser


def test_the_socket_is_the_one_nginx_connects_to():
    site = (ROOT / "deploy" / "nginx" / "api-key-portal.conf").read_text()
    upstream = re.search(r"server unix:(\S+) ", site).group(1)
    assert unit("api-key-portal.socket")["Socket"]["ListenStream"] == upstream


def serve_programs() -> dict[str, list[str]]:
    """What `make run` starts (bin/serve's portal_programs), by name."""
    loader = importlib.machinery.SourceFileLoader("serve", str(ROOT / "bin" / "serve"))
    module = types.ModuleType(loader.name)
    module.__file__ = loader.path
    loader.exec_module(module)
    return dict(module.portal_programs())


def test_the_service_runs_gunicorn_as_make_run_does():
    service = unit("api-key-portal.service")["Service"]
    makefile = (ROOT / "Makefile").read_text()
    assert "exec $(PY) bin/serve" in makefile
    web = serve_programs()["web"]
    assert web[0] == str(Path(sys.executable).with_name("gunicorn"))
    assert shlex.join(web[1:]) == "portal.wsgi -c gunicorn.conf.py"
    assert service["ExecStart"].endswith("/.venv/bin/gunicorn portal.wsgi -c gunicorn.conf.py")


def test_every_worker_make_run_starts_has_its_unit():
    """A worker added to bin/serve needs a systemd unit too (and this test a line)."""
    programs = serve_programs()
    assert set(programs) == {"web", "webhooks", "usage"}
    for name, service in (("webhooks", "api-key-portal-webhooks.service"), ("usage", "api-key-portal-usage.service")):
        worker = unit(service)["Service"]
        assert programs[name][0] == sys.executable
        assert worker["ExecStart"].endswith("/.venv/bin/python " + shlex.join(programs[name][1:]))
    assert unit("api-key-portal.service")["Unit"]["Requires"] == "api-key-portal.socket"


def test_the_service_is_unprivileged_restarted_and_hardened():
    service = unit("api-key-portal.service")["Service"]
    assert service["User"] not in ("", "root")
    assert service["EnvironmentFile"].startswith("/etc/")
    assert service["Restart"] == "on-failure"
    assert service["Type"] == "notify"
    for option, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[option] == value, option


@pytest.mark.parametrize(
    ("service", "command"),
    [
        ("api-key-portal-webhooks.service", "manage.py webhooks_deliver --forever"),
        ("api-key-portal-usage.service", "manage.py usage_flush --forever"),
    ],
)
def test_each_worker_runs_forever_unprivileged_and_hardened(service, command):
    worker = unit(service)["Service"]
    assert worker["ExecStart"].endswith("/.venv/bin/python " + command)
    assert worker["User"] not in ("", "root") and worker["Restart"] == "always"
    assert worker["EnvironmentFile"] == unit("api-key-portal.service")["Service"]["EnvironmentFile"]
    for option in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "CapabilityBoundingSet"):
        assert worker[option] == unit("api-key-portal.service")["Service"][option], option


def test_the_production_settings_pass_the_deploy_check_as_the_readme_runs_it(tmp_path):
    # docs/deployment.md "Setting up a host": deploy/portal.env.example with its secrets filled in, read by
    # `sh` as that document's `manage` helper reads it, then `manage check --deploy`: no warning.
    text = (ROOT / "deploy" / "portal.env.example").read_text()
    filled = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PORTAL_ENCRYPTION_KEYS": crypto.generate_encryption_key_entry("p1"),
    }
    for name, value in filled.items():
        assert f"\n{name}=\n" in text, name
        text = text.replace(f"\n{name}=\n", f"\n{name}={value}\n")
    settings_file = tmp_path / "portal.env"
    settings_file.write_text(text)
    # A project .env (written by `make run`) fills in what the environment lacks: hide what it
    # holds, so that only the file decides.
    local = ROOT / ".env"
    hidden = {}
    if local.is_file():
        for line in local.read_text().splitlines():
            name, sep, _ = line.partition("=")
            if sep and not name.lstrip().startswith("#"):
                hidden[name.strip()] = ""
    result = subprocess.run(
        [
            "sh",
            "-c",
            'set -a; . "$1"; exec "$2" manage.py check --deploy --fail-level WARNING',
            "sh",
            str(settings_file),
            sys.executable,
        ],
        cwd=ROOT,
        env={**hidden, "PATH": "/usr/bin:/bin", "HOME": "/tmp", "DJANGO_SETTINGS_MODULE": "portal.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_settings_file_reads_the_same_in_systemd_and_sh():
    # systemd reads it as the services' EnvironmentFile; the `manage` helper of docs/deployment.md sources it
    # with `sh` (set -a), which stops at a value with unquoted spaces or < >.
    path = ROOT / "deploy" / "portal.env.example"
    systemd = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]  # systemd removes the quotes around a value
            systemd[name] = value
    shown = subprocess.run(
        [
            "sh",
            "-c",
            'set -a; . "$0"; for name; do printf "%s=%s\\0" "$name" "$(printenv "$name")"; done',
            path,
            *systemd,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert shown.stderr == ""
    assert dict(item.split("=", 1) for item in shown.stdout.split("\0") if item) == systemd
    assert systemd["DEFAULT_FROM_EMAIL"] == "API Key Portal <portal@example.com>"
