"""The QR payload: a compact Ed25519-signed token naming a voucher, plus a rotating code.

    TBV1.<base32(body || signature)>[.<8-digit code>]

body = version (1) | mode (1) | key id length (1) | key id | voucher number (9 bytes)

- `mode` 1 is the app's code: it must carry an RFC 6238 time-based code (HMAC-SHA1,
  30-second steps, 8 digits) from the voucher's own secret; one step of clock skew
  either way is accepted, so a screenshot stops working within 30 to 90 seconds.
- `mode` 2 is the printed code: static, so it is accepted only with the
  beneficiary's date of birth, as the real programs do with a typed number.

The signature covers the body under a domain-separation prefix; the rotating code is
outside it (only the server, which knows the secret, can check it). A terminal can
verify the signature offline with the public keys GET /voucher-keys publishes, to tell
a forged code from a genuine one, but only the server's answer redeems anything.

Keys come from settings (VOUCHER_SIGNING_KEYS, VOUCHER_SIGNING_KEY_ID,
VOUCHER_RETIRED_PUBLIC_KEYS); the key id travels in the token, so keys rotate
without invalidating printed codes signed by a retired key that is still listed.
The keys are secrets of their own, never derived from SECRET_KEY: settings refuse
to run production without them (config/secret_settings.py).
"""

import base64
import binascii
import functools
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from vouchers import numbers
from vouchers.errors import VoucherCodeExpired, VoucherTokenInvalid

PREFIX = "TBV1."
VERSION = 1
MODE_APP = 1
MODE_PRINTED = 2
SIGNING_CONTEXT = b"tuckbox-voucher-token-v1\x00"
NUMBER_BYTES = 9
SIGNATURE_BYTES = 64
MAX_KID_LENGTH = 16
CODE_DIGITS = 8
MAX_TOKEN_LENGTH = 300
KEY_STATUSES = ("active", "retired")


# --- Keys ---------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRing:
    active_kid: str
    signing: dict[str, Ed25519PrivateKey]
    verifying: dict[str, Ed25519PublicKey]

    def status(self, kid: str) -> str:
        return "active" if kid == self.active_kid else "retired"


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _pairs(spec: str) -> list[tuple[str, str]]:
    pairs = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        kid, sep, value = item.partition(":")
        if not sep or not kid or len(kid) > MAX_KID_LENGTH or not kid.isascii():
            raise ImproperlyConfigured(f"voucher key entries are 'kid:base64url', at most {MAX_KID_LENGTH} ASCII characters of kid")
        pairs.append((kid, value))
    return pairs


@functools.lru_cache(maxsize=4)
def _keyring(signing_spec: str, active_kid: str, retired_spec: str) -> KeyRing:
    signing: dict[str, Ed25519PrivateKey] = {}
    for kid, value in _pairs(signing_spec):
        seed = _b64decode(value)
        if len(seed) != 32:
            raise ImproperlyConfigured(f"voucher signing key {kid!r} must be a 32-byte Ed25519 seed")
        signing[kid] = Ed25519PrivateKey.from_private_bytes(seed)
    if not signing:
        raise ImproperlyConfigured("VOUCHER_SIGNING_KEYS is empty")
    active = active_kid or next(iter(signing))
    if active not in signing:
        raise ImproperlyConfigured(f"VOUCHER_SIGNING_KEY_ID {active!r} is not among VOUCHER_SIGNING_KEYS")
    verifying = {kid: key.public_key() for kid, key in signing.items()}
    for kid, value in _pairs(retired_spec):
        raw = _b64decode(value)
        if len(raw) != 32:
            raise ImproperlyConfigured(f"retired voucher key {kid!r} must be a 32-byte Ed25519 public key")
        verifying.setdefault(kid, Ed25519PublicKey.from_public_bytes(raw))
    return KeyRing(active_kid=active, signing=signing, verifying=verifying)


def keyring() -> KeyRing:
    return _keyring(settings.VOUCHER_SIGNING_KEYS, settings.VOUCHER_SIGNING_KEY_ID, settings.VOUCHER_RETIRED_PUBLIC_KEYS)


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_keys() -> list[dict]:
    """The verification keys as JWKs (RFC 8037), the active one first."""
    ring = keyring()
    kids = sorted(ring.verifying, key=lambda kid: (kid != ring.active_kid, kid))
    return [
        {
            "kid": kid,
            "kty": "OKP",
            "crv": "Ed25519",
            "alg": "EdDSA",
            "use": "sig",
            "x": b64encode(_raw_public(ring.verifying[kid])),
            "status": ring.status(kid),
        }
        for kid in kids
    ]


# --- Rotating codes (RFC 6238) ------------------------------------------------------


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // settings.VOUCHER_CODE_STEP_SECONDS


def step_start(step: int) -> datetime:
    return datetime.fromtimestamp(step * settings.VOUCHER_CODE_STEP_SECONDS, tz=UTC)


def totp(secret_hex: str, step: int) -> str:
    digest = hmac.new(bytes.fromhex(secret_hex), step.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = (int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFF_FFFF) % 10**CODE_DIGITS
    return f"{value:0{CODE_DIGITS}d}"


def totp_check(*, secret_hex: str, code: str, now: datetime) -> None:
    """Accept the code of the current step or one step either side; raise VoucherCodeExpired otherwise."""
    current = time_step(now)
    skew = settings.VOUCHER_CODE_SKEW_STEPS
    matched = False
    for step in range(current - skew, current + skew + 1):
        matched |= hmac.compare_digest(totp(secret_hex, step), code)  # no early exit: constant time
    if not matched:
        raise VoucherCodeExpired()


# --- Tokens -----------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedToken:
    mode: int
    kid: str
    number: str
    code: str | None


def _body(mode: int, kid: str, number: str) -> bytes:
    kid_bytes = kid.encode("ascii")
    return bytes([VERSION, mode, len(kid_bytes)]) + kid_bytes + numbers.to_int(number).to_bytes(NUMBER_BYTES, "big")


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=")


def sign(*, number: str, mode: int) -> str:
    ring = keyring()
    body = _body(mode, ring.active_kid, number)
    signature = ring.signing[ring.active_kid].sign(SIGNING_CONTEXT + body)
    return PREFIX + _b32(body + signature)


def app_token(*, number: str, secret_hex: str, now: datetime) -> str:
    return f"{sign(number=number, mode=MODE_APP)}.{totp(secret_hex, time_step(now))}"


def printed_token(*, number: str) -> str:
    return sign(number=number, mode=MODE_PRINTED)


def parse(payload) -> ParsedToken:
    """Check the shape and the signature; raise VoucherTokenInvalid for anything else.

    Nothing here touches the database: a forged code is refused before any look-up.
    """
    if not isinstance(payload, str) or len(payload) > MAX_TOKEN_LENGTH or not payload.startswith(PREFIX):
        raise VoucherTokenInvalid()
    parts = payload[len(PREFIX) :].split(".")
    if len(parts) not in (1, 2) or not parts[0]:
        raise VoucherTokenInvalid()
    encoded = parts[0]
    try:
        raw = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except (binascii.Error, ValueError):
        raise VoucherTokenInvalid() from None
    if _b32(raw) != encoded:  # one canonical spelling per token
        raise VoucherTokenInvalid()
    if len(raw) < 3 or raw[0] != VERSION or raw[1] not in (MODE_APP, MODE_PRINTED):
        raise VoucherTokenInvalid()
    kid_length = raw[2]
    if not 1 <= kid_length <= MAX_KID_LENGTH or len(raw) != 3 + kid_length + NUMBER_BYTES + SIGNATURE_BYTES:
        raise VoucherTokenInvalid()
    body, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    try:
        kid = body[3 : 3 + kid_length].decode("ascii")
    except UnicodeDecodeError:
        raise VoucherTokenInvalid() from None
    public = keyring().verifying.get(kid)
    if public is None:
        raise VoucherTokenInvalid()
    try:
        public.verify(signature, SIGNING_CONTEXT + body)
    except InvalidSignature:
        raise VoucherTokenInvalid() from None
    value = int.from_bytes(body[3 + kid_length :], "big")
    if value >> numbers.RANDOM_BITS:
        raise VoucherTokenInvalid()
    mode = raw[1]
    code = parts[1] if len(parts) == 2 else None
    if mode == MODE_APP and (code is None or len(code) != CODE_DIGITS or not code.isascii() or not code.isdigit()):
        raise VoucherTokenInvalid()
    if mode == MODE_PRINTED and code is not None:
        raise VoucherTokenInvalid()
    return ParsedToken(mode=mode, kid=kid, number=numbers.from_int(value), code=code)
