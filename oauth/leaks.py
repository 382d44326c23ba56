"""The secret-scanning endpoint: secret-scanning services (GitHub's secret scanning partner
program and any service that speaks its shape) report candidates of this portal's secrets
found in public; each match is stopped at once (apikeys.leaks).

Request: `POST /oauth/secret-scanning/verify`, a JSON list of `{"token", "type", "url",
"source"}`, signed the way GitHub signs: `Github-Public-Key-Identifier` names one of the public
keys the operator configured (SECRET_SCANNING_KEYS_FILE, the JSON GitHub publishes at
https://api.github.com/meta/public_keys/secret_scanning, or the same shape with one's own
keys), and `Github-Public-Key-Signature` is the base64 ECDSA (SHA-256) signature of the raw
body. The signature is checked before anything else: an unsigned or badly signed request gets
401 and costs no lookup. Answer: one entry per candidate, `{"token_hash": sha256 hex,
"token_type", "label": "true_positive" | "false_positive"}`; a false positive says nothing
about why. Without configured keys the endpoint answers 404.
"""

import base64
import binascii
import hashlib
import json
import logging
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from activity.audit import Audit
from apikeys.leaks import secret_leak_report
from kernel.crypto import ec_public_key_load, ecdsa_sha256_valid

from .services import OAuthError, Outcome

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
MAX_CANDIDATES = 1000


@cache
def public_keys() -> dict[str, object]:
    """The configured public keys by identifier (read once per process)."""
    path = settings.SECRET_SCANNING_KEYS_FILE
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            entries = json.load(handle)["public_keys"]
        return {entry["key_identifier"]: ec_public_key_load(entry["key"]) for entry in entries}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ImproperlyConfigured(f"SECRET_SCANNING_KEYS_FILE {path} could not be read: {exc}") from exc


def enabled() -> bool:
    return bool(public_keys())


def _verify_signature(body: bytes, key_id: str, signature: str) -> bool:
    key = public_keys().get(key_id)
    if key is None or not signature:
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    return ecdsa_sha256_valid(key, raw, body)


def _unauthorized() -> OAuthError:
    return OAuthError(401, "invalid_signature", "The report's signature could not be verified.")


def leak_reports_handle(*, body: bytes, key_id: str, signature: str, address: str) -> Outcome:
    if len(body) > MAX_BODY_BYTES:
        raise OAuthError(413, "invalid_request", "The report is too large.")
    if not _verify_signature(body, key_id, signature):
        raise _unauthorized()
    try:
        candidates = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise OAuthError(400, "invalid_request", "The body must be a JSON list of candidates.") from None
    if not isinstance(candidates, list) or not all(isinstance(c, dict) for c in candidates):
        raise OAuthError(400, "invalid_request", "The body must be a JSON list of candidates.")
    if len(candidates) > MAX_CANDIDATES:
        raise OAuthError(413, "invalid_request", f"At most {MAX_CANDIDATES} candidates per report.")
    audit = Audit(actor=None, address=address)
    answers = []
    matched = 0
    for candidate in candidates:
        token = candidate.get("token")
        token_type = candidate.get("type") if isinstance(candidate.get("type"), str) else ""
        outcome = secret_leak_report(
            candidate=token if isinstance(token, str) else "",
            url=candidate.get("url") if isinstance(candidate.get("url"), str) else "",
            source=candidate.get("source") if isinstance(candidate.get("source"), str) else "",
            audit=audit,
        )
        matched += outcome.matched
        digest = hashlib.sha256(token.encode()).hexdigest() if isinstance(token, str) else ""
        answers.append(
            {
                "token_hash": digest,
                "token_type": token_type[:100],
                "label": "true_positive" if outcome.matched else "false_positive",
            }
        )
    logger.info("secret-scanning report: %d candidates, %d matched", len(candidates), matched)
    return Outcome(200, answers)  # type: ignore[arg-type]
