"""`manage.py setup_demo` (run by `make run`): the demo tenant and admin are created once, with
a random password kept in .env and printed on every start, and never reset."""

import re

import pytest
from django.core.management import call_command

from accounts.models import User
from apikeys.models import ApiKey
from tenants.management.commands.setup_demo import DEMO_EMAIL
from tenants.models import Membership, Tenant

pytestmark = pytest.mark.django_db
LOGIN = re.compile(r"Demo login:  admin@demo\.example  /  (\S+)")


def setup_demo(capsys, env_file) -> str:
    call_command("setup_demo", env_file=str(env_file))
    return capsys.readouterr().out


def stored(env_file) -> list[str]:
    return re.findall(r"^DEMO_ADMIN_PASSWORD=(.*)$", env_file.read_text(), re.M)


def test_the_first_run_creates_the_demo_with_a_random_password_kept_in_env(capsys, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=x")  # no newline at the end
    out = setup_demo(capsys, env_file)
    password = LOGIN.search(out).group(1)
    assert re.fullmatch(r"[A-Za-z0-9]{24}", password)
    assert stored(env_file) == [password]
    assert env_file.read_text().startswith("SECRET_KEY=x\n# The demo admin's password")
    assert User.objects.get(email=DEMO_EMAIL).check_password(password)
    assert Membership.objects.get(user__email=DEMO_EMAIL, tenant__code="demo").role == "admin"
    assert ApiKey.objects.filter(tenant__code="demo").count() == 2
    assert "Demo tenant: demo" in out


def test_later_runs_print_the_stored_password_and_never_set_it(capsys, tmp_path):
    env_file = tmp_path / ".env"
    password = LOGIN.search(setup_demo(capsys, env_file)).group(1)
    hashed = User.objects.get(email=DEMO_EMAIL).password
    for _ in range(2):
        out = setup_demo(capsys, env_file)
        assert LOGIN.search(out).group(1) == password and "may no longer work" not in out
    assert stored(env_file) == [password]
    assert User.objects.get(email=DEMO_EMAIL).password == hashed
    assert Tenant.objects.filter(code="demo").count() == 1


def test_a_changed_password_is_kept_and_the_stored_one_is_flagged(capsys, tmp_path):
    env_file = tmp_path / ".env"
    password = LOGIN.search(setup_demo(capsys, env_file)).group(1)
    admin = User.objects.get(email=DEMO_EMAIL)
    admin.set_password("changed-by-the-admin-2026")
    admin.is_active = False
    admin.save()
    out = setup_demo(capsys, env_file)
    assert LOGIN.search(out).group(1) == password
    assert "it may no longer work: the demo admin's password was changed" in out
    admin.refresh_from_db()
    assert admin.check_password("changed-by-the-admin-2026") and not admin.is_active


def test_every_new_demo_gets_its_own_password(capsys, tmp_path):
    first = LOGIN.search(setup_demo(capsys, tmp_path / "one.env")).group(1)
    Tenant.objects.filter(code="demo").delete()
    User.objects.filter(email=DEMO_EMAIL).delete()
    second = LOGIN.search(setup_demo(capsys, tmp_path / "two.env")).group(1)
    assert first != second
    assert (tmp_path / "two.env").stat().st_mode & 0o777 == 0o600


def test_an_empty_entry_copied_from_env_example_gets_a_password(capsys, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEMO_ADMIN_PASSWORD=\n")
    password = LOGIN.search(setup_demo(capsys, env_file)).group(1)
    assert len(password) == 24 and stored(env_file) == ["", password]
    assert LOGIN.search(setup_demo(capsys, env_file)).group(1) == password


def test_a_password_already_in_env_is_used_once_the_demo_is_created(capsys, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEMO_ADMIN_PASSWORD=chosen-by-bin-write-env-42\n")
    out = setup_demo(capsys, env_file)
    assert LOGIN.search(out).group(1) == "chosen-by-bin-write-env-42"
    assert stored(env_file) == ["chosen-by-bin-write-env-42"]
    assert User.objects.get(email=DEMO_EMAIL).check_password("chosen-by-bin-write-env-42")


def test_a_demo_whose_password_is_not_in_env_prints_no_login(capsys, tmp_path):
    setup_demo(capsys, tmp_path / "elsewhere.env")
    hashed = User.objects.get(email=DEMO_EMAIL).password
    out = setup_demo(capsys, tmp_path / "empty.env")
    assert "Demo login" not in out
    assert "its password is not in .env" in out and f"changepassword {DEMO_EMAIL}" in out
    assert User.objects.get(email=DEMO_EMAIL).password == hashed
    assert not (tmp_path / "empty.env").exists()


def test_it_says_where_mails_go(capsys, tmp_path, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(settings.BASE_DIR / "var" / "mail")
    assert "Mails (invitations, password resets) go to var/mail/" in setup_demo(capsys, tmp_path / ".env")
