"""GATEWAY_PASSTHROUGH_PREFIXES as the settings read it, and GATEWAY_STRICT=off (what the
gateway used to do by default: every unknown route open to any valid token) refused at start.
Each case is a fresh process, reading the settings as `manage.py` and gunicorn read them."""

import pytest

from conftest import run_manage
from kernel import crypto

SHOW = "from django.conf import settings; print(settings.GATEWAY_PASSTHROUGH_PREFIXES)"


@pytest.fixture
def environment(tmp_path) -> dict[str, str]:
    # Empty values hide a local .env's.
    return {
        "DEBUG": "off",
        "SECRET_KEY": "x" * 50,
        "PORTAL_ENCRYPTION_KEYS": crypto.generate_encryption_key_entry("m1"),
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "EMAIL_URL": "filemail://",
        "GATEWAY_PASSTHROUGH_PREFIXES": "",
        "GATEWAY_STRICT": "",
    }


def test_nothing_passes_through_by_default(environment):
    result = run_manage(["shell", "-v", "0", "-c", SHOW], environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "()"


def test_prefixes_are_read_as_a_list(environment):
    result = run_manage(
        ["shell", "-v", "0", "-c", SHOW], {**environment, "GATEWAY_PASSTHROUGH_PREFIXES": "/my-api,/tax/"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('/my-api', '/tax/')"


@pytest.mark.parametrize("prefix", ["my-api", "/my-api/../tax", "//", "/a//b", "/my%2Dapi", "/x?y", "/x;y", "/a\\b"])
def test_a_prefix_that_is_not_a_path_prefix_stops_the_portal(environment, prefix):
    result = run_manage(["check"], {**environment, "GATEWAY_PASSTHROUGH_PREFIXES": prefix})
    assert result.returncode != 0
    assert f"ImproperlyConfigured: GATEWAY_PASSTHROUGH_PREFIXES: {prefix!r} is not a path prefix" in result.stderr


def test_gateway_strict_off_stops_the_portal_naming_the_new_setting(environment):
    result = run_manage(["check"], {**environment, "GATEWAY_STRICT": "off"})
    assert result.returncode != 0
    assert "GATEWAY_STRICT=off is no longer supported" in result.stderr
    assert "GATEWAY_PASSTHROUGH_PREFIXES" in result.stderr


def test_gateway_strict_on_is_accepted_and_changes_nothing(environment):
    result = run_manage(["shell", "-v", "0", "-c", SHOW], {**environment, "GATEWAY_STRICT": "on"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "()"
