"""Voucher numbers, signed QR tokens, the rotating code, printed codes, key rotation, images."""

import base64
import hashlib
import io
from datetime import date, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.cache import cache
from PIL import Image

from core import clock
from tests.helpers import assert_problem
from tests.vouchers.conftest import START, preview
from tests.vouchers.factories import app_qr, issue, printed_qr
from vouchers import numbers, tokens
from vouchers.errors import VoucherTokenInvalid

pytestmark = pytest.mark.django_db


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_key() -> tuple[str, str]:
    """(seed, public key), base64url."""
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes_raw()
    return b64(seed), b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


@pytest.fixture
def voucher(world):
    [voucher] = issue(world.program, link=world.link)
    return voucher


# --- Numbers ----------------------------------------------------------------------------


def test_numbers_have_70_random_bits_and_a_check_character():
    generated = {numbers.generate() for _ in range(2000)}
    assert len(generated) == 2000
    for number in list(generated)[:200]:
        assert len(number) == 15 and numbers.normalise(number) == number
        assert numbers.from_int(numbers.to_int(number)) == number
    assert numbers.RANDOM_BITS >= 64


def test_typing_mistakes_are_caught_by_the_check_character():
    number = numbers.generate()
    for index in range(len(number)):
        for replacement in numbers.ALPHABET:
            if replacement != number[index]:
                assert numbers.normalise(number[:index] + replacement + number[index + 1 :]) is None


def test_a_typed_number_is_forgiving_about_case_spacing_and_look_alikes():
    number = numbers.from_int(0x1234567890ABCDEF)
    spoken = numbers.formatted(number).lower().replace("1", "l").replace("0", "o")
    assert numbers.normalise(f"  {spoken} ") == number


# --- Tokens ------------------------------------------------------------------------------


def test_a_token_names_its_voucher_and_verifies(voucher):
    parsed = tokens.parse(app_qr(voucher))
    assert (parsed.mode, parsed.number, parsed.kid) == (tokens.MODE_APP, voucher.number, tokens.keyring().active_kid)
    assert parsed.code == tokens.totp(voucher.totp_secret, tokens.time_step(clock.now()))
    assert tokens.parse(printed_qr(voucher)).mode == tokens.MODE_PRINTED
    assert len(app_qr(voucher)) < 160 and set(app_qr(voucher)) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.")  # QR alphanumeric mode


def test_totp_matches_rfc_6238_test_vector():
    # RFC 6238 appendix B, SHA-1: T = 59 s -> 94287082.
    assert tokens.totp(b"12345678901234567890".hex(), 59 // 30) == "94287082"


def test_the_rotating_code_is_accepted_within_one_step_of_skew_and_refused_after(world, voucher, clock_at):
    shown_at = START
    payload = app_qr(voucher, at=shown_at)
    client = world.terminal_client

    for seconds in (0, 29, 59, -30):
        clock_at(shown_at + timedelta(seconds=seconds - shown_at.second % 30))
        assert preview(client, {"qr": payload}).status_code == 200, seconds

    clock_at(shown_at + timedelta(seconds=90))  # two steps later: a screenshot
    assert_problem(preview(client, {"qr": payload}), 422, "voucher_code_expired")
    clock_at(shown_at - timedelta(seconds=60))  # two steps early
    assert_problem(preview(client, {"qr": payload}), 422, "voucher_code_expired")


def test_the_app_code_changes_every_30_seconds(world, voucher, clock_at):
    url = f"/api/v1/vouchers/{voucher.pk}/code"
    first = world.guardian_client.get(url).json()
    clock_at(START + timedelta(seconds=30))
    second = world.guardian_client.get(url).json()

    assert first["payload"] != second["payload"]
    assert first["payload"].split(".")[1] == second["payload"].split(".")[1]  # same signed part
    assert first["style"] == "rotating"
    assert first["refresh_at"] == "2026-03-01T23:00:30Z"
    assert first["valid_until"] == "2026-03-01T23:01:00Z"


def test_a_printed_code_is_accepted_only_with_the_right_date_of_birth(world, voucher):
    payload = printed_qr(voucher)
    client = world.terminal_client

    assert_problem(preview(client, {"qr": payload}), 422, "date_of_birth_required")
    assert_problem(preview(client, {"qr": payload, "date_of_birth": "2016-04-03"}), 422, "date_of_birth_mismatch")
    response = preview(client, {"qr": payload, "date_of_birth": "2016-04-02"})
    assert response.status_code == 200
    assert response.json()["beneficiary_first_name"] == "Mia"


def test_a_typed_number_needs_the_date_of_birth(world, voucher):
    client = world.terminal_client
    number = numbers.formatted(voucher.number)

    body = assert_problem(preview(client, {"number": number}), 400, "validation_error")
    assert body["errors"][0]["field"] == "date_of_birth"
    assert_problem(preview(client, {"number": number, "date_of_birth": "2016-02-04"}), 422, "date_of_birth_mismatch")
    assert preview(client, {"number": number.lower(), "date_of_birth": "2016-04-02"}).status_code == 200


def test_an_unknown_number_is_404_and_a_mistyped_one_400(world, voucher):
    client = world.terminal_client
    assert_problem(preview(client, {"number": numbers.generate(), "date_of_birth": "2016-04-02"}), 404, "voucher_not_found")
    mistyped = voucher.number[:-1] + ("0" if voucher.number[-1] != "0" else "1")
    body = assert_problem(preview(client, {"number": mistyped, "date_of_birth": "2016-04-02"}), 400, "validation_error")
    assert body["errors"][0]["code"] == "voucher_number_invalid"


def test_forged_truncated_and_resigned_tokens_are_refused(world, voucher, settings):
    good = app_qr(voucher)
    client = world.terminal_client
    signed, code = good[len(tokens.PREFIX) :].split(".")
    raw = base64.b32decode(signed + "=" * (-len(signed) % 8))

    def encode(raw_bytes: bytes, suffix: str = "." + code) -> str:
        return tokens.PREFIX + base64.b32encode(raw_bytes).decode().rstrip("=") + suffix

    # Re-signed with a key of our own under the real key id.
    seed, _ = new_key()
    imposter = Ed25519PrivateKey.from_private_bytes(base64.urlsafe_b64decode(seed + "="))
    body = raw[:-64]
    resigned = encode(body + imposter.sign(tokens.SIGNING_CONTEXT + body))
    # Another voucher's number in a genuine token's body.
    other = bytearray(raw)
    other[-65] ^= 1
    forged = [
        good[:-1],  # truncated code
        good[: len(good) // 2],  # truncated token
        encode(raw[:-1]),  # signature one byte short
        encode(bytes(other)),  # body altered
        resigned,
        encode(raw, ""),  # app token without its code
        encode(raw, ".1234567"),  # code too short
        "TBV2." + good[5:],
        good.lower(),
        "",
        "x" * 400,
    ]
    for payload in forged:
        response = preview(client, {"qr": payload})
        expected = (400, "validation_error") if payload in ("", "x" * 400) else (422, "voucher_token_invalid")
        assert (response.status_code, response.json()["code"]) == expected, payload
        cache.clear()  # stay under the failed look-up throttle


def test_key_rotation_keeps_printed_codes_of_a_retired_key_working(world, voucher, settings):
    old_seed, old_public = new_key()
    new_seed, _ = new_key()
    settings.VOUCHER_SIGNING_KEYS = f"k2026a:{old_seed}"
    settings.VOUCHER_SIGNING_KEY_ID = ""
    printed_under_old = printed_qr(voucher)
    assert tokens.parse(printed_under_old).kid == "k2026a"

    settings.VOUCHER_SIGNING_KEYS = f"k2026b:{new_seed}"
    settings.VOUCHER_RETIRED_PUBLIC_KEYS = f"k2026a:{old_public}"
    assert tokens.parse(printed_qr(voucher)).kid == "k2026b"
    assert tokens.parse(printed_under_old).number == voucher.number

    keys = world.terminal_client.get("/api/v1/voucher-keys").json()["keys"]
    assert [(key["kid"], key["status"]) for key in keys] == [("k2026b", "active"), ("k2026a", "retired")]
    assert keys[1]["x"] == old_public

    settings.VOUCHER_RETIRED_PUBLIC_KEYS = ""  # the old key withdrawn: its codes stop
    with pytest.raises(VoucherTokenInvalid):
        tokens.parse(printed_under_old)


def _seed_derived_from(secret_key: str) -> str:
    """How earlier versions made the voucher key when none was configured."""
    return b64(hashlib.sha256(b"tuckbox-voucher-signing-key\x00" + secret_key.encode()).digest())


def test_a_code_signed_with_a_key_derived_from_a_secret_key_is_refused(world, voucher, settings):
    real_keys, real_active = settings.VOUCHER_SIGNING_KEYS, settings.VOUCHER_SIGNING_KEY_ID
    genuine = printed_qr(voucher)
    active_kid = tokens.keyring().active_kid
    forged = []
    # The published development SECRET_KEY and the running one; under the old development key id and the real one's.
    for secret_key in ("insecure-embedded-default-key-change-me-0123456789", settings.SECRET_KEY):
        for kid in ("dev-153d5838", active_kid):
            settings.VOUCHER_SIGNING_KEYS, settings.VOUCHER_SIGNING_KEY_ID = f"{kid}:{_seed_derived_from(secret_key)}", kid
            forged.append(printed_qr(voucher))
    settings.VOUCHER_SIGNING_KEYS, settings.VOUCHER_SIGNING_KEY_ID = real_keys, real_active
    credential = {"date_of_birth": "2016-04-02"}

    assert preview(world.terminal_client, {"qr": genuine, **credential}).json()["beneficiary_first_name"] == "Mia"
    for qr in forged:
        body = assert_problem(preview(world.terminal_client, {"qr": qr, **credential}), 422, "voucher_token_invalid")
        assert "Mia" not in str(body) and voucher.number not in str(body)
        cache.clear()  # stay under the failed look-up throttle


def test_the_published_key_verifies_a_token_offline(api_client, voucher):
    response = api_client.get("/api/v1/voucher-keys")

    assert response.status_code == 200
    [key] = response.json()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["status"]) == ("OKP", "Ed25519", "EdDSA", "active")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(key["x"] + "="))
    signed = printed_qr(voucher)[len(tokens.PREFIX) :]
    raw = base64.b32decode(signed + "=" * (-len(signed) % 8))
    public.verify(raw[-64:], tokens.SIGNING_CONTEXT + raw[:-64])  # raises if not genuine


# --- Images ---------------------------------------------------------------------------------


def test_png_and_svg_images_for_a_phone_screen_with_the_number_under_the_code(world, voucher):
    png = world.guardian_client.get(f"/api/v1/vouchers/{voucher.pk}/qr.png", HTTP_ACCEPT="image/png")
    svg = world.guardian_client.get(f"/api/v1/vouchers/{voucher.pk}/qr.svg?style=printed")

    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert png["Cache-Control"] == "no-store"
    image = Image.open(io.BytesIO(png.content))
    assert 600 <= image.width <= 800 and image.height > image.width
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert numbers.formatted(voucher.number) in svg.content.decode()
    assert "Active Kids" in svg.content.decode()


def test_no_code_for_a_voucher_that_cannot_be_spent(world, voucher, clock_at):
    clock_at(START.replace(year=2027, month=1, day=1))
    world.sign_in_again()

    assert_problem(world.guardian_client.get(f"/api/v1/vouchers/{voucher.pk}/code"), 409, "voucher_expired")
    assert_problem(world.guardian_client.get(f"/api/v1/vouchers/{voucher.pk}/qr.png"), 409, "voucher_expired")


def test_another_familys_voucher_is_404(world, voucher, client_for):
    [theirs] = issue(world.program)
    for suffix in ("", "/code", "/qr.png", "/qr.svg"):
        assert_problem(world.guardian_client.get(f"/api/v1/vouchers/{theirs.pk}{suffix}"), 404, "not_found")
    assert [row["id"] for row in world.guardian_client.get("/api/v1/vouchers").json()["results"]] == [voucher.pk]


def test_dates_of_birth_are_compared_exactly(voucher):
    assert voucher.student.date_of_birth == date(2016, 4, 2)
