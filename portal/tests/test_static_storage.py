"""`make run`'s collectstatic with the hashed, compressed storage (kernel/staticstorage.py):
the vendored Redoc bundle names a source map that is not shipped, and collecting still works,
the bundle gets its hashed name, and CSS references are still rewritten to hashed names."""

import json

from django.core.management import call_command
from django.test import override_settings


def test_collectstatic_with_the_manifest_storage(tmp_path):
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "kernel.staticstorage.StaticStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", "--noinput", verbosity=0)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    hashed = manifest["vendor/redoc/redoc.standalone.js"]
    assert hashed != "vendor/redoc/redoc.standalone.js" and (tmp_path / hashed).exists()
    assert (tmp_path / f"{hashed}.gz").exists()
    # The source map reference is left as published (no map is shipped).
    assert (tmp_path / hashed).read_bytes().rstrip().endswith(b"//# sourceMappingURL=redoc.standalone.js.map")
    # CSS is still processed: the admin's widgets.css points at its icons by their hashed name.
    icons = manifest["admin/img/selector-icons.svg"].rpartition("/")[2]
    assert f'url("../img/{icons}")' in (tmp_path / manifest["admin/css/widgets.css"]).read_text()
