"""All of the portal's cryptography: secret and Client ID generation, secret format and
checksum, encryption at rest, digests and constant-time comparison. Nothing else in the
project imports `secrets`, `hmac` or `cryptography`.

Secret format (documented in the README):

    akps_<43 base62 characters: 256 bits from `secrets`><6 base62 characters: CRC32 checksum>

matched by SECRET_REGEX. The checksum lets scanners and `is_well_formed_secret` tell a real
secret from a random string offline; it adds no secrecy.
"""

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase

SECRET_PREFIX = "akps_"
SECRET_BODY_LENGTH = 43  # 62**43 > 2**256
CHECKSUM_LENGTH = 6  # 62**6 > 2**32
_SECRET_BODY = rf"{SECRET_PREFIX}[0-9A-Za-z]{{{SECRET_BODY_LENGTH + CHECKSUM_LENGTH}}}"
SECRET_REGEX = rf"\b{_SECRET_BODY}\b"  # for scanners; the README shows it
_SECRET_FULL = re.compile(_SECRET_BODY)

CLIENT_ID_LENGTH = 32
_CLIENT_ID_FULL = re.compile(r"[0-9A-Za-z]{32}")

TOKEN_PREFIX = "akpt_"
REFRESH_TOKEN_PREFIX = "akpr_"
INVITATION_TOKEN_PREFIX = "akpi_"  # the token in an invitation link (tenants.Invitation)

NONCE_BYTES = 12  # 96-bit nonces, fresh for every encryption
ENCRYPTION_KEY_BYTES = 32  # AES-256
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


class DecryptionError(Exception):
    """A ciphertext could not be decrypted: wrong or unknown key, tampering, or a ciphertext
    that belongs to another row."""


class EncryptionConfigError(ValueError):
    """PORTAL_ENCRYPTION_KEYS is malformed."""


# Data sealed under the portal's encryption keys (client secrets, the token service's signing
# keys, second factors, webhook signing secrets) registers how to re-encrypt it, so that one
# command (`reencrypt_secrets`) moves everything to the newest key; each reencrypt returns
# (re-encrypted, failed). A store may also say what it holds (`key_counts`: encryption key id ->
# values stored under it) and whether one of its values opens under a key id (`opens`: None when
# it holds none), which the canaries (kernel.canary) use to prove a key before trusting it.
# The kernel knows no domain model: the apps register their stores in their AppConfig.ready().
@dataclass(frozen=True)
class SealedStore:
    reencrypt: Callable[[], tuple[int, int]] | None = None  # None: its own command does it
    key_counts: Callable[[], dict[str, int]] | None = None
    opens: Callable[[str], bool | None] | None = None


_sealed: dict[str, SealedStore] = {}


def sealed_register(
    name: str,
    reencrypt: Callable[[], tuple[int, int]] | None = None,
    *,
    key_counts: Callable[[], dict[str, int]] | None = None,
    opens: Callable[[str], bool | None] | None = None,
) -> None:
    _sealed[name] = SealedStore(reencrypt=reencrypt, key_counts=key_counts, opens=opens)


def sealed_stores() -> dict[str, SealedStore]:
    return dict(_sealed)


def sealed_reencrypters() -> dict[str, Callable[[], tuple[int, int]]]:
    return {name: store.reencrypt for name, store in _sealed.items() if store.reencrypt is not None}


def _random_base62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def _checksum(text: str) -> str:
    return _base62(binascii.crc32(text.encode("ascii")), CHECKSUM_LENGTH)


def generate_secret() -> str:
    """A new client secret: prefix, 256 bits of `secrets` randomness in base62, checksum."""
    body = SECRET_PREFIX + _random_base62(SECRET_BODY_LENGTH)
    return body + _checksum(body)


def is_well_formed_secret(value: str) -> bool:
    """True if `value` has the secret format and a correct checksum. Offline: says nothing
    about whether the secret exists or works."""
    if not isinstance(value, str) or not _SECRET_FULL.fullmatch(value):
        return False
    body, checksum = value[:-CHECKSUM_LENGTH], value[-CHECKSUM_LENGTH:]
    return hmac.compare_digest(_checksum(body), checksum)


def generate_client_id() -> str:
    """A new Client ID: 32 letters and digits (about 190 random bits)."""
    return _random_base62(CLIENT_ID_LENGTH)


def is_well_formed_client_id(value: str) -> bool:
    return isinstance(value, str) and bool(_CLIENT_ID_FULL.fullmatch(value))


def generate_token(prefix: str = TOKEN_PREFIX) -> str:
    """An opaque bearer token: prefix and 256 random bits (43 URL-safe characters)."""
    return prefix + secrets.token_urlsafe(32)


def generate_nonce() -> str:
    """A Content-Security-Policy nonce: 144 random bits, URL-safe base64."""
    return secrets.token_urlsafe(18)


def digest(value: str) -> bytes:
    """SHA-256 of a secret or token, the only form in which they are stored for checking."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


# A digest that no secret has, compared against when a Client ID is unknown so that an unknown
# Client ID costs the same as a wrong secret.
DUMMY_DIGEST = hashlib.sha256(b"no such client").digest()


def digests_match(presented: bytes, stored: bytes) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(presented, stored)


def matching_digest(presented: bytes, candidates: list[bytes]) -> int | None:
    """Index of the candidate equal to `presented`, or None. Compares against every
    candidate, and against a dummy when there is none, so that timing tells neither which
    candidate matched nor whether the Client ID exists."""
    if not candidates:
        hmac.compare_digest(presented, DUMMY_DIGEST)
        return None
    found = None
    for index, candidate in enumerate(candidates):
        if hmac.compare_digest(presented, candidate):
            found = index
    return found


# --- Encryption at rest -------------------------------------------------------------------


@dataclass(frozen=True)
class EncryptionKey:
    id: str
    key: bytes

    def __repr__(self) -> str:  # never show key material
        return f"EncryptionKey(id={self.id!r})"


def generate_encryption_key_entry(key_id: str) -> str:
    """A new `id:base64key` entry for PORTAL_ENCRYPTION_KEYS."""
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(ENCRYPTION_KEY_BYTES)).decode()}"


def parse_encryption_keys(raw: str) -> tuple[EncryptionKey, ...]:
    """Parse "id:base64key" entries separated by commas or newlines (blank lines and lines
    starting with # are skipped). Raises EncryptionConfigError, naming the entry but never
    its key material."""
    keys: list[EncryptionKey] = []
    entries = [part.strip() for line in raw.splitlines() for part in line.split(",")]
    for position, entry in enumerate(entries, start=1):
        if not entry or entry.startswith("#"):
            continue
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not _KEY_ID.fullmatch(key_id):
            raise EncryptionConfigError(
                f"encryption key entry {position} must look like 'id:base64key' with an id of "
                "1 to 32 letters, digits, '_' or '-'"
            )
        try:
            material = base64.b64decode(encoded.strip().replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raise EncryptionConfigError(f"encryption key {key_id!r} is not valid base64") from None
        if len(material) != ENCRYPTION_KEY_BYTES:
            raise EncryptionConfigError(
                f"encryption key {key_id!r} must be {ENCRYPTION_KEY_BYTES} bytes (AES-256), not {len(material)}"
            )
        if any(existing.id == key_id for existing in keys):
            raise EncryptionConfigError(f"encryption key id {key_id!r} appears twice")
        keys.append(EncryptionKey(key_id, material))
    if not keys:
        raise EncryptionConfigError("no encryption key is configured")
    return tuple(keys)


@lru_cache(maxsize=4)
def _keys_from(raw: str) -> tuple[EncryptionKey, ...]:
    return parse_encryption_keys(raw)


def encryption_keys() -> tuple[EncryptionKey, ...]:
    """The configured keys, newest (the one that encrypts) first."""
    return _keys_from(settings.PORTAL_ENCRYPTION_KEYS)


def current_key_id() -> str:
    return encryption_keys()[0].id


def _aad(binding: str) -> bytes:
    return b"akp-secret-v1|" + binding.encode("utf-8")


def encrypt(plaintext: str, *, binding: str) -> tuple[bytes, str]:
    """Encrypt with the newest key (AES-256-GCM, fresh 96-bit nonce). `binding` identifies
    the row the ciphertext belongs to and is authenticated as associated data, so the
    ciphertext fails to decrypt anywhere else. Returns (nonce + ciphertext, key id)."""
    key = encryption_keys()[0]
    return _seal(key, plaintext, binding), key.id


def _seal(key: EncryptionKey, plaintext: str, binding: str) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key.key).encrypt(nonce, plaintext.encode("utf-8"), _aad(binding))


def decrypt(blob: bytes, *, key_id: str, binding: str) -> str:
    """Decrypt what `encrypt` returned for the same binding. Raises DecryptionError."""
    key = next((k for k in encryption_keys() if k.id == key_id), None)
    if key is None:
        raise DecryptionError(f"encryption key {key_id!r} is not configured")
    blob = bytes(blob)
    try:
        plain = AESGCM(key.key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(binding))
    except (InvalidTag, ValueError):
        raise DecryptionError("ciphertext does not decrypt for this row and key") from None
    return plain.decode("utf-8")


def opens(blob: bytes, *, key_id: str, binding: str) -> bool:
    """Whether `blob` decrypts under the configured key `key_id` for `binding` (False if that
    key is not configured or is the wrong material). The plaintext is not returned: the
    sealed stores (kernel.crypto.sealed_register) and the canaries only ask whether a key
    opens what was sealed under it."""
    try:
        decrypt(blob, key_id=key_id, binding=binding)
    except DecryptionError:
        return False
    return True


# --- Canaries -------------------------------------------------------------------------------
# A known value sealed under each encryption key the database has seen (kernel.canary keeps
# one row per key id). A process whose key of the same id does not open it has the wrong key
# material; one with none of the database's key ids cannot show any stored secret.

_CANARY = "akp-canary-v1"


def canary_seal(key_id: str) -> bytes:
    """The canary sealed under the configured key `key_id` (any of them, not only the first)."""
    key = next(k for k in encryption_keys() if k.id == key_id)
    return _seal(key, _CANARY, f"canary:{key_id}")


def canary_opens(blob: bytes, key_id: str) -> bool:
    """True if the configured key `key_id` opens this canary (False if it is not configured)."""
    try:
        return decrypt(blob, key_id=key_id, binding=f"canary:{key_id}") == _CANARY
    except DecryptionError:
        return False


# --- Signatures of others -----------------------------------------------------------------------
# Secret-scanning services sign their leak reports with ECDSA P-256 (oauth/leaks.py).


def ec_public_key_load(pem: str) -> object:
    """An elliptic-curve public key from PEM; ValueError if it is not one."""
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("not an elliptic-curve public key")
    return key


def ecdsa_sha256_valid(public_key: object, signature: bytes, message: bytes) -> bool:
    """True if `signature` (DER) is `public_key`'s ECDSA signature of SHA-256(`message`)."""
    try:
        public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))  # type: ignore[attr-defined]
    except (InvalidSignature, ValueError):
        return False
    return True


# --- Signing keys of JWT access tokens ------------------------------------------------------
# The token service signs JWTs (RFC 9068) with Ed25519 keys. They are generated here, as JWKs
# (RFC 8037), so that the token service hands them to PyJWT and never touches `cryptography`.


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def signing_key_generate() -> tuple[str, dict[str, str], dict[str, str]]:
    """A new Ed25519 signing key: (kid, private JWK, public JWK). The kid is 128 random bits;
    the private JWK is the public one plus "d", and must only be stored encrypted."""
    kid = secrets.token_urlsafe(16)
    private = Ed25519PrivateKey.generate()
    raw = serialization.Encoding.Raw
    x = private.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
    d = private.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    public = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(x), "kid": kid, "alg": "EdDSA", "use": "sig"}
    return kid, {**public, "d": _b64url(d)}, public


# --- Webhook signing (Standard Webhooks) ----------------------------------------------------
# An endpoint's signing secret is `whsec_` + base64 of 32 random bytes; the HMAC key is those
# bytes. Stored encrypted like client secrets (encrypt/decrypt with the endpoint's binding).

WEBHOOK_SECRET_PREFIX = "whsec_"
WEBHOOK_SECRET_BYTES = 32


def generate_webhook_secret() -> str:
    """A new webhook signing secret: `whsec_` + base64 of 256 bits from `secrets`."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(WEBHOOK_SECRET_BYTES)).decode("ascii")


def webhook_signature(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks `webhook-signature` value: `v1,` + base64 of HMAC-SHA256, keyed
    with the secret's decoded bytes, over `{message_id}.{timestamp}.{body}`."""
    key = base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")
