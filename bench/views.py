"""The benchmark's yardstick: the least a token endpoint must do, served by a bare Django
(bench/settings.py: no middleware) under the same gunicorn settings as the portal.

Parse HTTP Basic, one indexed lookup of the key's current secret (raw SQL), one constant-time
digest comparison, one INSERT of the new token's digest, a JSON answer that caches cannot keep.
No scopes, no limits, no last-used, no CSRF or login machinery."""

import base64
from datetime import timedelta

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from apikeys.models import ApiKey, ApiSecret
from kernel import crypto
from oauth.models import AccessToken

# Hand-written SQL: the cheapest possible indexed lookup, a strict yardstick.
LOOKUP = (
    f"SELECT s.id, s.digest, s.key_id FROM {ApiSecret._meta.db_table} s "
    f"JOIN {ApiKey._meta.db_table} k ON k.id = s.key_id WHERE k.client_id = %s AND s.expires_at IS NULL"
)


def _answer(body: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


def token(request: HttpRequest) -> JsonResponse:
    """POST oauth/token with HTTP Basic credentials (the benchmark sends nothing else)."""
    client_id, _, secret = base64.b64decode(request.META["HTTP_AUTHORIZATION"][6:]).decode().partition(":")
    with connection.cursor() as cursor:
        cursor.execute(LOOKUP, [client_id])
        row = cursor.fetchone()
    if row is None or crypto.matching_digest(crypto.digest(secret), [bytes(row[1])]) is None:
        return _answer({"error": "invalid_client"}, status=401)
    issued = crypto.generate_token()
    now = timezone.now()
    AccessToken.objects.create(
        digest=crypto.digest(issued),
        key_id=row[2],
        secret_id=row[0],
        issued_at=now,
        expires_at=now + timedelta(hours=1),
    )
    return _answer({"access_token": issued, "token_type": "Bearer", "expires_in": 3600})
