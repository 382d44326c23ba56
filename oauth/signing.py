"""JWT access tokens (RFC 9068) and the keys that sign them.

A JWT access token is `at+jwt`, signed with an Ed25519 key by PyJWT as `alg` JWT_ALGORITHM
(`EdDSA` or RFC 9864's fully specified `Ed25519`; both are verified), with the claims iss, sub
(the Client ID), aud, exp, iat, jti, client_id, scope (the granted names), tenant, and cred_id:
the public id of the secret that minted it (never the secret), so that a verifier here can
check in one query that the secret is still live, as for opaque tokens.

Signing keys (`SigningKey`) move through three states: next (published at
/.well-known/jwks.json, not signing), active (signing) and retired (published until every token
it signed has expired, then deleted). `signing_keys_rotate` (the `rotate_signing_key` command)
runs those stages; a deployment without a key gets an active one the first time one is needed.

Each process keeps the signing key it decrypted for SIGNER_CACHE_SECONDS, and the published
public keys for KEYS_REFRESH_SECONDS (reloading sooner, at most every UNKNOWN_KID_SECONDS, when
a token names a kid it does not know). A retired key stays published for that cache's length
beyond the token lifetime, since a process may still sign with it for that long.
"""

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.views.decorators.debug import sensitive_variables
from jwt.algorithms import OKPAlgorithm

from apikeys.auth import VerifiedKey
from kernel.crypto import DecryptionError, generate_token, signing_key_generate
from kernel.crypto import current_key_id as at_rest_key_id
from kernel.crypto import decrypt as at_rest_decrypt
from kernel.crypto import encrypt as at_rest_encrypt
from kernel.crypto import opens as crypto_opens

from .models import SigningKey, SigningKeyState

# RFC 9864 deprecates the polymorphic "EdDSA" for the fully specified "Ed25519": the same key
# and the same signature under another name. JWT_ALGORITHM chooses the name tokens are signed
# with (EdDSA by default while PyJWT's PyJWKClient cannot load an "Ed25519" JWK: docs/
# token-service.md, JWT algorithm); both are verified, so tokens issued before a switch stay
# valid. KEY_ALGORITHM loads the key type in PyJWT, whose JWK loader knows only "EdDSA".
ALGORITHMS = ("EdDSA", "Ed25519")
KEY_ALGORITHM = "EdDSA"
# A private JWS instance with just these two, so registering "Ed25519" changes nothing for
# other users of PyJWT in the process.
_jws = jwt.PyJWS(algorithms=[KEY_ALGORITHM])
_jws.register_algorithm("Ed25519", OKPAlgorithm())
TYP = "at+jwt"
SIGNER_CACHE_SECONDS = 10
KEYS_REFRESH_SECONDS = 60
UNKNOWN_KID_SECONDS = 5
# Tokens whose iat is up to this far ahead of the verifier's clock are accepted (instances'
# clocks differ a little); exp is never stretched.
CLOCK_LEEWAY = 60
MAX_JWT_LENGTH = 16384


def issuer() -> str:
    """The authorization server's issuer identifier (RFC 8414): PORTAL_URL, the portal's public
    origin from configuration. Never the request's Host: the metadata, `jwks_uri` and a JWT's
    `iss` and `aud` must be the same whichever allowed host name a client used."""
    return settings.PORTAL_URL


def algorithm() -> str:
    """The `alg` new tokens are signed with, and the JWK Set names (JWT_ALGORITHM)."""
    return settings.JWT_ALGORITHM


def lifetime() -> int:
    """The longest a JWT lives: what a retired signing key must stay published for."""
    return settings.JWT_ACCESS_TOKEN_LIFETIME


def jwt_lifetime(client: VerifiedKey) -> int:
    """Seconds a JWT of `client` lives: JWT_ACCESS_TOKEN_LIFETIME, or the key's own access-token
    lifetime if that is shorter (a longer one would outlive what offline verifiers can revoke,
    and the signing key's publication)."""
    if client.token_lifetime:
        return min(client.token_lifetime, lifetime())
    return lifetime()


# --- Signing keys ---------------------------------------------------------------------------


@sensitive_variables("private")
def _create(state: str, now: datetime) -> SigningKey:
    kid, private, public = signing_key_generate()
    key = SigningKey(
        kid=kid,
        state=state,
        public_jwk=public,
        created_at=now,
        activated_at=now if state == SigningKeyState.ACTIVE else None,
    )
    key.ciphertext, key.encryption_key_id = at_rest_encrypt(json.dumps(private), binding=key.binding)
    key.save(force_insert=True)
    return key


def signing_key_active(now: datetime) -> SigningKey:
    """The key that signs now; a deployment that has none gets one (concurrent processes agree
    on one: the database allows a single active key)."""
    key = SigningKey.objects.filter(state=SigningKeyState.ACTIVE).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return _create(SigningKeyState.ACTIVE, now)
    except IntegrityError:
        return SigningKey.objects.get(state=SigningKeyState.ACTIVE)


def published_q(now: datetime) -> Q:
    return Q(publish_until__isnull=True) | Q(publish_until__gt=now)


def jwks(now: datetime) -> dict[str, list[dict[str, str]]]:
    """The JWK Set of every published public key (RFC 7517), newest first."""
    keys = list(SigningKey.objects.filter(published_q(now)).values_list("public_jwk", flat=True))
    if not keys:
        keys = [signing_key_active(now).public_jwk]
    # A JWK's `alg` restricts the key to that name (jose checks it): the name tokens are signed
    # with now, whatever the key was stored with.
    return {"keys": [{**jwk, "alg": algorithm()} for jwk in keys]}


def _retire_publish_until(now: datetime) -> datetime:
    # Tokens signed now expire after the lifetime; a process may sign with the old key for up
    # to SIGNER_CACHE_SECONDS more; CLOCK_LEEWAY covers instances whose clocks run behind.
    return now + timedelta(seconds=lifetime() + SIGNER_CACHE_SECONDS + CLOCK_LEEWAY)


@transaction.atomic
def signing_keys_rotate(*, now: datetime, force: bool = False) -> list[str]:
    """One idempotent pass of key rotation; returns what it did, one line each (kids and times,
    never key material):

    1. unpublish (delete) retired keys whose tokens have all expired;
    2. with no active key, create one (it signs at once: nothing could have cached it yet);
    3. promote the next key if it has been published for JWKS_PUBLISH_AHEAD (at once with
       `force`, creating it first if there is none), retiring the active key, which stays
       published until every token it signed has expired;
    4. make sure a next key is published, so that the following rotation can promote it.
    """
    done: list[str] = []
    keys = list(SigningKey.objects.select_for_update().order_by("created_at"))
    for key in keys:
        if key.state == SigningKeyState.RETIRED and key.publish_until <= now:
            key.delete()
            done.append(f"Unpublished retired key {key.kid}: every token it signed has expired.")
    active = next((key for key in keys if key.state == SigningKeyState.ACTIVE), None)
    upcoming = next((key for key in keys if key.state == SigningKeyState.NEXT), None)
    if active is None:
        active = _create(SigningKeyState.ACTIVE, now)
        done.append(f"No key was signing: created key {active.kid}, which signs from now.")
    elif upcoming is None and force:
        upcoming = _create(SigningKeyState.NEXT, now)
        done.append(f"Published next key {upcoming.kid}.")
    if upcoming is not None:
        ready_at = upcoming.created_at + timedelta(seconds=settings.JWKS_PUBLISH_AHEAD)
        if force or ready_at <= now:
            active.state, active.retired_at = SigningKeyState.RETIRED, now
            active.publish_until = _retire_publish_until(now)
            active.save(update_fields=["state", "retired_at", "publish_until"])
            upcoming.state, upcoming.activated_at = SigningKeyState.ACTIVE, now
            upcoming.save(update_fields=["state", "activated_at"])
            done.append(
                f"Key {upcoming.kid} signs from now; key {active.kid} is retired and stays published "
                f"until {active.publish_until.isoformat()}."
            )
            upcoming = None
        else:
            done.append(
                f"Next key {upcoming.kid} has been published since {upcoming.created_at.isoformat()}; it can "
                f"sign from {ready_at.isoformat()} (JWKS_PUBLISH_AHEAD): run this again then, or with --now."
            )
    if upcoming is None:
        upcoming = _create(SigningKeyState.NEXT, now)
        ready_at = now + timedelta(seconds=settings.JWKS_PUBLISH_AHEAD)
        done.append(f"Published next key {upcoming.kid}; it can sign from {ready_at.isoformat()}.")
    return done


@sensitive_variables("private")
def signing_keys_reencrypt() -> tuple[int, int]:
    """Re-encrypt every signing key under the newest encryption key (run by `reencrypt_secrets`
    after the secrets); returns (re-encrypted, failed). Each new ciphertext is proven first."""
    done = failed = 0
    target = at_rest_key_id()
    for key in SigningKey.objects.exclude(encryption_key_id=target).order_by("pk"):
        try:
            private = at_rest_decrypt(key.ciphertext, key_id=key.encryption_key_id, binding=key.binding)
        except DecryptionError:
            failed += 1
            continue
        ciphertext, key_id = at_rest_encrypt(private, binding=key.binding)
        if at_rest_decrypt(ciphertext, key_id=key_id, binding=key.binding) != private:
            raise RuntimeError("re-encryption self-check failed")
        SigningKey.objects.filter(pk=key.pk).update(ciphertext=ciphertext, encryption_key_id=key_id)
        done += 1
    return done, failed


def signing_key_counts() -> dict[str, int]:
    """Signing keys per encryption key id (kernel.crypto.sealed_register: readiness and the
    canaries see what is stored)."""
    rows = SigningKey.objects.order_by().values_list("encryption_key_id").annotate(count=Count("id"))
    return dict(rows)


def signing_key_opens(key_id: str) -> bool | None:
    """Whether a signing key sealed under `key_id` decrypts with the configured key of that id;
    None when none is."""
    key = SigningKey.objects.filter(encryption_key_id=key_id).first()
    return None if key is None else crypto_opens(key.ciphertext, key_id=key_id, binding=key.binding)


@sensitive_variables("private")
def signing_key_unreadable() -> str | None:
    """For /readyz (kernel.health.readiness_register): why this instance could not sign a JWT,
    or None. The active signing key must decrypt with the encryption keys configured here (a
    deployment without one gets one on the first JWT). Names the kid (published anyway) and
    the encryption key id, never material."""
    key = SigningKey.objects.filter(state=SigningKeyState.ACTIVE).first()
    if key is None:
        return None
    try:
        private = at_rest_decrypt(key.ciphertext, key_id=key.encryption_key_id, binding=key.binding)
    except DecryptionError:
        return (
            f"the JWT signing key {key.kid!r} cannot be decrypted here "
            f"(it is sealed under encryption key {key.encryption_key_id!r})"
        )
    return None if private else "the JWT signing key is empty"


# --- In-process caches ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Signer:
    kid: str
    key: Any  # the private key object PyJWT signs with
    loaded_at: float


@dataclass(frozen=True, slots=True)
class _Published:
    keys: dict[str, tuple[Any, datetime | None]]  # kid: (public key object, publish_until)
    loaded_at: float


_signer: _Signer | None = None
_published: _Published | None = None
_lock = threading.Lock()


def cache_clear() -> None:
    global _signer, _published
    _signer = _published = None


@sensitive_variables("private")
def _current_signer(now: datetime) -> _Signer:
    global _signer
    signer = _signer
    if signer is not None and time.monotonic() - signer.loaded_at < SIGNER_CACHE_SECONDS:
        return signer
    with _lock:
        key = signing_key_active(now)
        if signer is None or signer.kid != key.kid:
            private = at_rest_decrypt(key.ciphertext, key_id=key.encryption_key_id, binding=key.binding)
            signer = _Signer(key.kid, jwt.PyJWK(json.loads(private), algorithm=KEY_ALGORITHM).key, time.monotonic())
        else:
            signer = _Signer(signer.kid, signer.key, time.monotonic())
        _signer = signer
    return signer


def _public_key(kid: str, now: datetime) -> Any | None:
    """The public key `kid` if it is published now, from the process's cache (reloaded every
    KEYS_REFRESH_SECONDS, and on an unknown kid at most every UNKNOWN_KID_SECONDS)."""
    global _published
    published = _published
    age = time.monotonic() - published.loaded_at if published is not None else None
    if age is None or age >= KEYS_REFRESH_SECONDS or (kid not in published.keys and age >= UNKNOWN_KID_SECONDS):
        rows = SigningKey.objects.filter(published_q(now)).values_list("kid", "public_jwk", "publish_until")
        published = _published = _Published(
            {row_kid: (jwt.PyJWK(jwk, algorithm=KEY_ALGORITHM).key, until) for row_kid, jwk, until in rows},
            time.monotonic(),
        )
    found = published.keys.get(kid)
    if found is None or (found[1] is not None and found[1] <= now):
        return None
    return found[0]


# --- Issuing and verifying ------------------------------------------------------------------


def jwt_issue(*, client: VerifiedKey, scopes: str, now: datetime) -> str:
    """A signed `at+jwt` access token for `client` with the granted `scopes` (space-separated).
    Writes nothing to the database (except a signing key, the first time one is needed)."""
    signer = _current_signer(now)
    issued = int(now.timestamp())
    claims = {
        "iss": issuer(),
        "sub": client.client_id,
        "aud": settings.JWT_AUDIENCE or issuer(),
        "exp": issued + jwt_lifetime(client),
        "iat": issued,
        "jti": generate_token(""),
        "client_id": client.client_id,
        "scope": scopes,
        "tenant": client.tenant_code,
        "cred_id": client.secret_public_id,
    }
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return _jws.encode(payload, signer.key, algorithm=algorithm(), headers={"kid": signer.kid, "typ": TYP})


def looks_like_jwt(token: str) -> bool:
    """A compact JWS (three base64url parts), as opposed to an `akpt_` opaque token."""
    return token.startswith("eyJ") and token.count(".") == 2


def _str(claims: dict[str, Any], *names: str) -> bool:
    return all(isinstance(claims.get(name), str) and claims[name] for name in names)


def _int(claims: dict[str, Any], *names: str) -> bool:
    return all(isinstance(claims.get(name), int) and not isinstance(claims[name], bool) for name in names)


@sensitive_variables("token")
def jwt_verify(token: str, *, now: datetime) -> dict[str, Any] | None:
    """The claims of `token` if it is an `at+jwt` of this portal that is valid now, else None:
    signed (EdDSA or Ed25519 only; `none` and every other algorithm are refused) by a key published now;
    exp in the future, iat not; iss the configured issuer (PORTAL_URL); aud the configured audience (else the issuer);
    every claim the token service writes present and well typed. Says nothing about whether
    the secret that minted it is live or the token revoked (bearer_verify asks that)."""
    if not token or len(token) > MAX_JWT_LENGTH or not looks_like_jwt(token):
        return None
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return None
    kid = header.get("kid")
    if header.get("alg") not in ALGORITHMS or header.get("typ") != TYP or not isinstance(kid, str):
        return None
    key = _public_key(kid, now)
    if key is None:
        return None
    try:
        # Only the signature here; the claims are checked against `now` and settings below.
        claims = json.loads(_jws.decode(token, key, algorithms=list(ALGORITHMS)))
    except (jwt.PyJWTError, ValueError):
        return None
    if not isinstance(claims, dict):
        return None
    if not _str(claims, "sub", "client_id", "jti", "tenant", "cred_id") or not isinstance(claims.get("scope"), str):
        return None
    if not _int(claims, "exp", "iat") or claims["sub"] != claims["client_id"]:
        return None
    timestamp = now.timestamp()
    if claims["exp"] <= timestamp or claims["iat"] > timestamp + CLOCK_LEEWAY:
        return None
    if claims.get("iss") != issuer():
        return None
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    if (settings.JWT_AUDIENCE or issuer()) not in audiences:
        return None
    return claims
