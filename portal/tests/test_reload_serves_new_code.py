"""`systemctl reload` (HUP) after a new version is deployed, as the upgrade steps of docs/deployment.md do it:
gunicorn, started as `make run` and deploy/systemd start it, forks new workers that run the new
code while it goes on serving. gunicorn.conf.py imports kernel.logescape into the master, so the
new version here changes that module and code that uses it."""

import shutil
import signal
import subprocess

import pytest

from portal.tests.serving import GUNICORN, ROOT, free_port, request, stop, token_request, wait_until_serving

pytestmark = pytest.mark.outside  # gunicorn

IGNORED = shutil.ignore_patterns(".git", ".venv", "node_modules", "docs", "staticfiles", "var", ".env", "__pycache__")


def test_a_reload_after_an_upgrade_runs_the_new_code(served, tmp_path):
    env, client_id, secret = served
    copy = tmp_path / "deployed"
    shutil.copytree(ROOT, copy, ignore=IGNORED)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [GUNICORN, "portal.wsgi", "-c", "gunicorn.conf.py"],
            cwd=copy,
            env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_serving(lambda: token_request(base, client_id, secret).status == 200, process, log)
        assert request(f"{base}/healthz").json() == {"status": "ok"}

        # The new version: kernel.logescape gains a name that a module the workers import uses.
        with open(copy / "kernel" / "logescape.py", "a") as module:
            module.write('\nVERSION = "2"\n')
        health = (copy / "kernel" / "health.py").read_text()
        health = health.replace(
            'return JsonResponse({"status": "ok"})', 'return JsonResponse({"status": "ok", "version": VERSION})'
        )
        (copy / "kernel" / "health.py").write_text(
            health.replace("from . import outages", "from . import outages\nfrom .logescape import VERSION")
        )
        process.send_signal(signal.SIGHUP)

        wait_until_serving(
            lambda: request(f"{base}/healthz", timeout=5).json().get("version") == "2",
            process,
            log,
            ignoring=(OSError, ValueError),
        )
        assert token_request(base, client_id, secret).status == 200
        assert "Worker failed to boot" not in log.read_text()
    finally:
        stop(process)
