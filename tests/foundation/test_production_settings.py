"""With DEBUG off, settings refuse a missing, short, placeholder or published secret; `check --deploy`
is clean on production settings. Each case loads settings in a subprocess with a crafted environment."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.dev_secrets import fresh_secrets, write_once

REPOSITORY = Path(__file__).resolve().parents[2]
# Committed here, so published: settings must refuse it for every secret.
PUBLISHED_IN_TESTS = "published-in-the-tests-of-this-repository-so-anyone-can-read-it-0123456789"
SECRETS = ["SECRET_KEY", "JWT_SIGNING_KEY", "CARD_IDENTIFIER_KEY", "EVENTS_LINK_KEY", "VOUCHER_SIGNING_KEYS", "STRIPE_WEBHOOK_SECRET", "STRIPE_SECRET_KEY"]
READ_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "SECRET_KEY": settings.SECRET_KEY, "JWT_SIGNING_KEY": settings.SIMPLE_JWT["SIGNING_KEY"],
    "CARD_IDENTIFIER_KEY": settings.CARD_IDENTIFIER_KEY, "EVENTS_LINK_KEY": settings.EVENTS_LINK_KEY,
    "VOUCHER_SIGNING_KEYS": settings.VOUCHER_SIGNING_KEYS, "STRIPE_WEBHOOK_SECRET": settings.STRIPE_WEBHOOK_SECRET,
    "STRIPE_SECRET_KEY": settings.STRIPE_SECRET_KEY, "from_dev_file": sorted(settings.SECRETS_FROM_DEV_FILE),
}))
"""


def seed(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def production_env(**changes) -> dict:
    """A production-like environment: DEBUG off, PostgreSQL and Redis (never connected to), fresh secrets."""
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEV_SECRETS_FILE": "",
        "DATABASE_URL": f"postgres://tuckbox:{os.urandom(12).hex()}@db.internal:5432/tuckbox",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "ALLOWED_HOSTS": "api.tuckbox.example",
        "PAYMENT_GATEWAY": "stripe",
        **fresh_secrets(),
    }
    env.update(changes)
    return {key: value for key, value in env.items() if value is not None}


def run(env: dict, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, *(args or ("-c", READ_SETTINGS))]
    return subprocess.run(command, env=env, cwd=REPOSITORY, capture_output=True, text=True, timeout=120)


def refusal(env: dict) -> list[str]:
    """The problems settings name when they refuse to load; asserts no secret's value is printed."""
    result = run(env)
    assert result.returncode != 0, result.stdout
    output = result.stdout + result.stderr
    for name in [*SECRETS, "SECRET_KEY_FALLBACKS", "EVENTS_LINK_KEY_FALLBACKS"]:
        for value in (item.rsplit(":", 1)[-1] for item in env.get(name, "").split(",")):  # a voucher key's kid is not secret
            assert len(value) < 8 or value not in output, f"the value of {name} was printed"
    [line] = [line for line in output.splitlines() if "ImproperlyConfigured: Refusing to start with DEBUG off: " in line]
    return line.split("Refusing to start with DEBUG off: ", 1)[1].split(". Set real secrets;")[0].split("; ")


def test_production_settings_load_with_every_secret_its_own():
    env = production_env()
    result = run(env)

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert {name: loaded[name] for name in SECRETS} == {name: env[name] for name in SECRETS}
    assert len({loaded[name] for name in SECRETS}) == len(SECRETS)  # nothing derived from anything else
    assert loaded["from_dev_file"] == []


@pytest.mark.parametrize("name", SECRETS)
def test_a_missing_secret_is_refused(name):
    assert refusal(production_env(**{name: None})) == [f"{name} is not set"]


def test_with_the_fake_gateway_the_stripe_api_key_is_not_required_but_the_webhook_secret_is():
    env = production_env(PAYMENT_GATEWAY="fake", STRIPE_SECRET_KEY=None, ALLOWED_HOSTS="127.0.0.1")  # make run
    assert run(env).returncode == 0
    assert refusal({**env, "STRIPE_WEBHOOK_SECRET": ""}) == ["STRIPE_WEBHOOK_SECRET is not set"]


def test_short_secrets_are_refused():
    env = production_env(
        SECRET_KEY="x1y2z3" * 8,  # 48 characters: Django asks for 50
        JWT_SIGNING_KEY="short-jwt-key",
        CARD_IDENTIFIER_KEY="a" * 40,  # long, but one character
        EVENTS_LINK_KEY="k" + "0123456789" * 4,
        VOUCHER_SIGNING_KEYS=f"k1:{seed(os.urandom(16))}",
        STRIPE_WEBHOOK_SECRET="whsec_123",
        STRIPE_SECRET_KEY="sk_live_123",
        SECRET_KEY_FALLBACKS="old-but-short",
    )
    assert refusal(env) == [
        "SECRET_KEY is too short (at least 50 random characters)",
        "SECRET_KEY_FALLBACKS (item 1) is too short (at least 50 random characters)",
        "JWT_SIGNING_KEY is too short (at least 32 random characters)",
        "STRIPE_SECRET_KEY is too short (at least 32 random characters)",
        "STRIPE_WEBHOOK_SECRET is too short (at least 32 random characters)",
        "CARD_IDENTIFIER_KEY is too short (at least 32 random characters)",
        "EVENTS_LINK_KEY is too short (at least 50 random characters)",
        "VOUCHER_SIGNING_KEYS: the key 'k1' is not a random 32-byte seed in base64url",
    ]


def test_secrets_published_in_the_repository_are_refused():
    here = "tests/foundation/test_production_settings.py"
    env = production_env(
        SECRET_KEY="bench-only-secret-key-not-for-production-0123456789abcdef",  # in the history only
        SECRET_KEY_FALLBACKS=f"{'f' + os.urandom(32).hex()},{PUBLISHED_IN_TESTS}",
        JWT_SIGNING_KEY=PUBLISHED_IN_TESTS,
        STRIPE_SECRET_KEY=PUBLISHED_IN_TESTS[:-5],
        STRIPE_WEBHOOK_SECRET=PUBLISHED_IN_TESTS[:40],
        CARD_IDENTIFIER_KEY=PUBLISHED_IN_TESTS[10:],
        EVENTS_LINK_KEY=PUBLISHED_IN_TESTS,
        EVENTS_LINK_KEY_FALLBACKS=PUBLISHED_IN_TESTS,
        VOUCHER_SIGNING_KEYS="dev-153d5838:yqVftpsm96dylwFSnCdGemQHf2VKGMYg7twjfc2eazg",  # the development key
        DATABASE_URL="postgres://tuckbox:secret@db.internal:5432/tuckbox",  # the old .env.example's password
    )
    assert refusal(env) == [
        "SECRET_KEY is a published value",
        f"SECRET_KEY_FALLBACKS (item 2) is a published value (it appears in {here})",
        "the DATABASE_URL password is a published value",
        f"JWT_SIGNING_KEY is a published value (it appears in {here})",
        f"STRIPE_SECRET_KEY is a published value (it appears in {here})",
        f"STRIPE_WEBHOOK_SECRET is a published value (it appears in {here})",
        f"CARD_IDENTIFIER_KEY is a published value (it appears in {here})",
        f"EVENTS_LINK_KEY is a published value (it appears in {here})",
        f"EVENTS_LINK_KEY_FALLBACKS (item 1) is a published value (it appears in {here})",
        "VOUCHER_SIGNING_KEYS (key 'dev-153d5838') is a published value (it appears in config/settings.py)",
    ]


def test_the_placeholders_of_env_example_are_refused():
    example = dict(
        line.split("=", 1) for line in (REPOSITORY / ".env.example").read_text().splitlines() if "=" in line and not line.startswith("#")
    )
    env = production_env(**{name: example[name] for name in SECRETS}, DATABASE_URL=example["DATABASE_URL"])
    assert refusal(env) == [
        "SECRET_KEY is a placeholder",
        "the DATABASE_URL password is a placeholder",
        "JWT_SIGNING_KEY is a placeholder",
        "STRIPE_SECRET_KEY is a placeholder",
        "STRIPE_WEBHOOK_SECRET is a placeholder",
        "CARD_IDENTIFIER_KEY is a placeholder",
        "EVENTS_LINK_KEY is a placeholder",
        "VOUCHER_SIGNING_KEYS: the key 'k2026a' is not a random 32-byte seed in base64url",
    ]


def test_a_secret_may_come_from_a_file_and_is_checked_the_same(tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(fresh_secrets()["SECRET_KEY"] + "\n")
    env = production_env(SECRET_KEY=None, SECRET_KEY_FILE=str(secret_file))
    assert json.loads(run(env).stdout)["SECRET_KEY"] == secret_file.read_text().strip()

    secret_file.write_text(PUBLISHED_IN_TESTS)
    assert refusal(env) == ["SECRET_KEY is a published value (it appears in tests/foundation/test_production_settings.py)"]
    both = {**env, "SECRET_KEY": fresh_secrets()["SECRET_KEY"]}
    assert refusal(both) == ["SECRET_KEY and SECRET_KEY_FILE are both set (set one)"]
    assert refusal({**env, "SECRET_KEY_FILE": str(tmp_path / "missing")}) == [
        "SECRET_KEY_FILE names a file that cannot be read (No such file or directory)"
    ]


def test_with_debug_on_no_secret_is_required():
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", "DEV_SECRETS_FILE": "", "DEBUG": "true",
           "DATABASE_URL": "postgres://tuckbox@127.0.0.1:5432/tuckbox", "REDIS_URL": "redis://127.0.0.1:6379/0"}
    result = run(env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["SECRET_KEY"] == "insecure-embedded-default-key-change-me-0123456789"


def test_the_throwaway_file_is_written_once_and_read_under_the_environment(tmp_path):
    path = tmp_path / "secrets.env"
    assert write_once(path) is True
    written = path.read_text()
    assert write_once(path) is False and path.read_text() == written
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    kept = fresh_secrets()["JWT_SIGNING_KEY"]
    env = production_env(**{**dict.fromkeys(SECRETS), "DEV_SECRETS_FILE": str(path), "JWT_SIGNING_KEY": kept})
    result = run(env)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    from_file = dict(line.split("=", 1) for line in written.splitlines() if not line.startswith("#"))
    assert loaded["JWT_SIGNING_KEY"] == kept
    assert loaded["SECRET_KEY"] == from_file["SECRET_KEY"] and loaded["VOUCHER_SIGNING_KEYS"] == from_file["VOUCHER_SIGNING_KEYS"]
    assert loaded["from_dev_file"] == sorted(set(SECRETS) - {"JWT_SIGNING_KEY"} | {"SECURE_SSL_REDIRECT"})

    deploy = run(env, "manage.py", "check", "--deploy")
    assert "tuckbox.W001" in deploy.stderr and "security.W008" in deploy.stderr, deploy.stderr


def test_check_deploy_is_clean_on_production_settings():
    result = run(production_env(), "manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_the_fake_gateway_is_refused_on_a_site_with_a_public_name():
    result = run(production_env(PAYMENT_GATEWAY="fake"))

    assert result.returncode != 0
    assert "PAYMENT_GATEWAY=fake serves only this machine" in result.stderr


def test_the_fake_gateway_serves_a_stack_on_this_machine():
    result = run(production_env(PAYMENT_GATEWAY="fake", ALLOWED_HOSTS="127.0.0.1,localhost"))

    assert result.returncode == 0, result.stderr


def test_without_postgresql_and_redis_settings_refuse_to_load_and_say_how_to_get_them():
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", "DEV_SECRETS_FILE": "", "DEBUG": "true"}

    missing = run(env)
    sqlite = run({**env, "DATABASE_URL": "sqlite:///var/x.sqlite3", "REDIS_URL": "redis://127.0.0.1:6379/0"})
    no_redis = run({**env, "DATABASE_URL": "postgres://tuckbox@127.0.0.1:5432/tuckbox"})

    assert missing.returncode and "DATABASE_URL is not set" in missing.stderr and "make run" in missing.stderr
    assert sqlite.returncode and "DATABASE_URL must be a PostgreSQL URL" in sqlite.stderr and "'sqlite'" in sqlite.stderr
    assert no_redis.returncode and "REDIS_URL is not set" in no_redis.stderr
