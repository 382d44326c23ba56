"""WSGI entry of the benchmark's floor: `DJANGO_SETTINGS_MODULE=bench.settings gunicorn bench.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

application = get_wsgi_application()
