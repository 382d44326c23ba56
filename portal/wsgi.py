import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

application = get_wsgi_application()

# The gateway check's cached allows are answered before Django (GATEWAY_FAST_LANE); imported
# once Django is set up, as the apps' modules need.
from gateway.fastlane import FastLane  # noqa: E402

application = FastLane(application)
