import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

application = get_wsgi_application()

# The token service's and the gateway check's paths go through Django without the middleware
# that do nothing on them (kernel/lanes.py, MACHINE_LANE); the gateway check's cached allows
# (GATEWAY_FAST_LANE) and plain client-credentials requests (TOKEN_FAST_LANE) are answered
# before Django. Imported once Django is set up, as the apps' modules need.
from gateway.fastlane import FastLane  # noqa: E402
from kernel.lanes import application_with_lanes  # noqa: E402
from oauth.fastlane import TokenLane  # noqa: E402

application = FastLane(TokenLane(application_with_lanes(application)))
