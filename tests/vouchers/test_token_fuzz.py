"""Fuzzing the QR path: 10,000 forged payloads from a seeded generator, none accepted.

Mutations of a genuine token (bit flips, truncation, substitutions, another key's
signature, a swapped key id or mode, guessed rotating codes, a printed code with a
guessed date of birth), random payloads and garbage. Each must fail with a look-up
error and none may name a voucher a terminal could take.
"""

import base64
import random
from datetime import date, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.cache import cache

from core import clock
from core.errors import DomainError
from tests.vouchers.conftest import preview
from tests.vouchers.factories import app_qr, issue, printed_qr
from vouchers import numbers, tokens
from vouchers.redemption import Credential, voucher_lookup

pytestmark = pytest.mark.django_db

PAYLOADS = 10_000
ALLOWED_CODES = {"voucher_token_invalid", "voucher_code_expired", "voucher_not_found", "date_of_birth_mismatch", "date_of_birth_required"}
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=")


def unb32(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


class Forger:
    def __init__(self, voucher, rng: random.Random):
        self.rng = rng
        self.voucher = voucher
        self.genuine = app_qr(voucher)
        signed, self.code = self.genuine[len(tokens.PREFIX) :].split(".")
        self.raw = unb32(signed)
        self.printed = printed_qr(voucher)
        self.attacker = Ed25519PrivateKey.generate()
        step = tokens.time_step(clock.now())
        self.valid_codes = {tokens.totp(voucher.totp_secret, s) for s in range(step - 1, step + 2)}

    def token(self, raw: bytes, code: str | None = "keep") -> str:
        suffix = "" if code is None else "." + (self.code if code == "keep" else code)
        return tokens.PREFIX + b32(raw) + suffix

    def bit_flip(self):
        raw = bytearray(self.raw)
        for position in self.rng.sample(range(len(raw)), self.rng.randint(1, 3)):
            raw[position] ^= 1 << self.rng.randrange(8)
        return Credential(qr=self.token(bytes(raw)))

    def truncate(self):
        return Credential(qr=self.genuine[: self.rng.randrange(len(self.genuine))])

    def substitute(self):
        chars = list(self.genuine)
        index = self.rng.randrange(len(tokens.PREFIX), len(chars))
        chars[index] = self.rng.choice([c for c in B32 + "0189.-" if c != chars[index]])
        return Credential(qr="".join(chars))

    def resign(self):
        """A body of the attacker's choosing under the real key id, signed with the attacker's key."""
        kid = tokens.keyring().active_kid.encode()
        mode = self.rng.choice([tokens.MODE_APP, tokens.MODE_PRINTED])
        number = self.rng.choice([self.voucher.number, numbers.generate()])
        body = bytes([1, mode, len(kid)]) + kid + numbers.to_int(number).to_bytes(9, "big")
        signed = self.token(body + self.attacker.sign(tokens.SIGNING_CONTEXT + body), None if mode == tokens.MODE_PRINTED else "keep")
        return Credential(qr=signed, date_of_birth=date(2016, 4, 2))

    def swap_kid_or_mode(self):
        raw = bytearray(self.raw)
        if self.rng.random() < 0.5:
            raw[1] = tokens.MODE_PRINTED  # an app token passed off as printed
            return Credential(qr=self.token(bytes(raw), None), date_of_birth=date(2016, 4, 2))
        kid_at = 3 + self.rng.randrange(raw[2])
        raw[kid_at] = ord(self.rng.choice([c for c in "abcdefghijklmnopqrstuvwxyz0123456789-" if ord(c) != raw[kid_at]]))
        return Credential(qr=self.token(bytes(raw)))

    def guess_code(self):
        while (code := f"{self.rng.randrange(10**8):08d}") in self.valid_codes:
            pass
        return Credential(qr=self.token(self.raw, code))

    def guess_birthday(self):
        while (guess := date(2010, 1, 1) + timedelta(days=self.rng.randrange(4000))) == date(2016, 4, 2):
            pass
        return Credential(qr=self.printed, date_of_birth=guess)

    def random_payload(self):
        raw = self.rng.randbytes(self.rng.choice([0, 1, 16, 79, 80, 81, 88, 200]))
        code = self.rng.choice([None, "keep", "12345678", ""])
        return Credential(qr=self.token(raw, code), date_of_birth=self.rng.choice([None, date(2016, 4, 2)]))

    def garbage(self):
        alphabet = "".join(chr(c) for c in range(32, 127)) + "éü\u200b\x00"
        return Credential(qr="".join(self.rng.choice(alphabet) for _ in range(self.rng.randrange(1, 300))))

    def forge(self) -> Credential:
        kind = self.rng.choices(
            [self.bit_flip, self.truncate, self.substitute, self.resign, self.swap_kid_or_mode, self.guess_code, self.guess_birthday, self.random_payload, self.garbage],
            weights=[26, 10, 21, 10, 8, 2, 1.5, 11, 10.5],  # guesses that pass the signature cost a query: fewer
        )[0]
        return kind()


def test_ten_thousand_forged_payloads_are_all_refused(world):
    [voucher] = issue(world.program, link=world.link)
    forger = Forger(voucher, random.Random(20260302))
    outcomes: dict[str, int] = {}

    for _ in range(PAYLOADS):
        credential = forger.forge()
        with pytest.raises(DomainError) as refused:
            voucher_lookup(credential=credential)
        outcomes[refused.value.code] = outcomes.get(refused.value.code, 0) + 1

    assert sum(outcomes.values()) == PAYLOADS
    assert set(outcomes) <= ALLOWED_CODES, outcomes
    assert outcomes["voucher_token_invalid"] > PAYLOADS * 0.8
    # The genuine token still works: the fuzzing broke nothing.
    assert voucher_lookup(credential=Credential(qr=forger.genuine)) == voucher


def test_forged_payloads_through_the_api_are_4xx_and_write_nothing(world, settings):
    settings.VOUCHER_LOOKUP_FAILURES_PER_MINUTE = 10**6
    [voucher] = issue(world.program, link=world.link)
    forger = Forger(voucher, random.Random(7))

    for _ in range(200):
        credential = forger.forge()
        body = {"qr": credential.qr[:300]} | ({"date_of_birth": credential.date_of_birth.isoformat()} if credential.date_of_birth else {})
        response = preview(world.terminal_client, body)
        assert 400 <= response.status_code < 500, response.content
        assert response.json()["code"] in ALLOWED_CODES | {"validation_error", "malformed_request"}  # NUL: api/parsers.py
    cache.clear()
    voucher.refresh_from_db()
    assert voucher.remaining_value == voucher.face_value
