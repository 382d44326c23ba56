"""The lock files (docs/dependencies.md): every package pinned with hashes, no test tool in what
`make run` installs, and the freshness check that `make test` runs first catching an input that
changed after its lock was compiled."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ["requirements/runtime.txt", "requirements/dev.txt"]
TEST_TOOLS = ["pytest", "pytest-django", "pytest-env", "playwright", "schemathesis", "aiosmtpd", "ruff", "uv"]


def pins(lock: Path) -> dict[str, str]:
    """Each requirement of a lock (continuation lines joined), by package name."""
    text = lock.read_text().replace("\\\n", " ")
    found = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith(("#", " ")):
            found[re.match(r"[A-Za-z0-9._-]+", line).group(0).lower()] = line
    return found


def check(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "bin/locks"), "check", str(root)], capture_output=True, text=True, timeout=30
    )


@pytest.mark.parametrize("lock", LOCKS)
def test_every_locked_package_is_pinned_with_a_hash(lock):
    found = pins(ROOT / lock)
    assert found
    for name, line in found.items():
        assert re.match(rf"{re.escape(name)}==\S+ ", line, re.I) and "--hash=sha256:" in line, line


def test_the_runtime_lock_holds_no_test_tool():
    runtime = pins(ROOT / "requirements/runtime.txt")
    assert "django" in runtime and "gunicorn" in runtime
    assert not set(TEST_TOOLS) & set(runtime)
    assert set(TEST_TOOLS) <= set(pins(ROOT / "requirements/dev.txt"))


def test_the_committed_locks_match_their_inputs():
    result = check(ROOT)
    assert result.returncode == 0, result.stderr


def test_the_check_names_a_lock_whose_input_changed(tmp_path):
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements")
    assert check(tmp_path).returncode == 0

    with (tmp_path / "requirements/runtime.in").open("a") as runtime_in:
        runtime_in.write("django-debug-toolbar\n")
    result = check(tmp_path)
    assert result.returncode == 1
    assert "requirements/runtime.txt is stale: requirements/runtime.in changed" in result.stderr
    assert "requirements/dev.txt" not in result.stderr  # its inputs did not change
    assert "make lock" in result.stderr

    # A runtime lock edited by hand (or compiled again) makes the development lock stale too.
    with (tmp_path / "requirements/runtime.txt").open("a") as runtime_txt:
        runtime_txt.write("# edited\n")
    assert "requirements/dev.txt is stale: requirements/runtime.txt changed" in check(tmp_path).stderr

    # What `make lock` does after compiling: record the inputs again.
    stamped = subprocess.run(
        [sys.executable, str(ROOT / "bin/locks"), "stamp", str(tmp_path)], capture_output=True, text=True, timeout=30
    )
    assert stamped.returncode == 0, stamped.stderr
    assert check(tmp_path).returncode == 0
    assert pins(tmp_path / "requirements/dev.txt") == pins(ROOT / "requirements/dev.txt")  # only the header changed
