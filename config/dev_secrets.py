"""Fresh secrets: throwaway ones for local stacks, or a set to put in a secret store.

    python -m config.dev_secrets var/secrets.env    # a local stack's file: written once, kept if it exists
    python -m config.dev_secrets --print            # a fresh set on stdout (production: into your secret store)

Settings read var/secrets.env when it exists (DEV_SECRETS_FILE names another file; empty reads
none), under whatever the environment and .env already set. `make test`, `make openapi`
and `make run` write it first; `make bench` passes a fresh set of its own in the environment.
A local stack serves plain HTTP, so the file also turns off the HTTPS redirect. Never keep this
file on a production host: `check --deploy` warns when settings took a secret from it.

Stdlib only: it runs before any dependency is installed.
"""

import base64
import os
import secrets
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

LOCAL_STACK_SETTINGS = {"SECURE_SSL_REDIRECT": "false"}


def fresh_secrets() -> dict[str, str]:
    """Every secret settings refuse to run production without, freshly generated."""
    voucher_seed = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
        "CARD_IDENTIFIER_KEY": secrets.token_urlsafe(48),
        "EVENTS_LINK_KEY": secrets.token_urlsafe(50),
        "VOUCHER_SIGNING_KEYS": f"k{datetime.now(UTC):%Y%m%d}:{voucher_seed}",
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_urlsafe(32),
        # Stripe refuses it: a stack on throwaway secrets never reaches Stripe.
        "STRIPE_SECRET_KEY": "sk_test_throwaway_" + secrets.token_urlsafe(24),
    }


def local_stack_env() -> dict[str, str]:
    return {**fresh_secrets(), **LOCAL_STACK_SETTINGS}


def _lines(values: dict[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())


def write_once(path: Path) -> bool:
    """Write a local stack's env file unless one exists (its keys signed what the database holds)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# Throwaway secrets of a local stack (python -m config.dev_secrets). Never for production.\n"
    text += _lines(local_stack_env())
    # Written aside and linked into place: a reader sees no file or a whole one, and of two
    # processes racing to write it, one wins and both use its keys.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secrets-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        os.unlink(temporary)
    return True


def main(argv: list[str]) -> int:
    if argv == ["--print"]:
        sys.stdout.write(_lines(fresh_secrets()))
        return 0
    if len(argv) != 1 or argv[0].startswith("-"):
        sys.stderr.write(__doc__)
        return 2
    path = Path(argv[0])
    print(f"dev_secrets: {'wrote' if write_once(path) else 'kept'} {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
