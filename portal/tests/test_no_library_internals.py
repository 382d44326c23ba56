"""The portal uses allauth through its public modules, not `allauth.*.internal`, whose names
may change in any release (the public ones are kept across releases)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ["accounts", "activity", "api", "apikeys", "gateway", "kernel", "notifications", "oauth", "portal"]
APPS += ["scopes", "tenants", "webhooks"]

# Where no public API gives what the portal needs, and why.
KNOWN = {
    # The time step a TOTP code belongs to, kept per authenticator so that a code is accepted
    # once (allauth's public validation does not say which step matched).
    "accounts/forms.py": {"allauth.mfa.totp.internal"},
}


def _internal_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("allauth.") and ".internal" in name}


def test_no_module_imports_an_allauth_internal():
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if "tests" in relative.parts or "migrations" in relative.parts:
                continue
            if internal := _internal_imports(path):
                found[str(relative)] = internal
    assert found == KNOWN


def test_the_check_sees_an_internal_import(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("from allauth.account.internal.flows.login import get_authentication_records\n")
    assert _internal_imports(module) == {"allauth.account.internal.flows.login"}
