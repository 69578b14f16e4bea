#!/usr/bin/env python3
"""`make run`: the production process set with the demo data, on the servers in the environment.

Run under scripts/with_services.py, which provides DATABASE_URL and REDIS_URL. In order:
migrate, seed the demo, start the Procfile (gunicorn, Celery worker, beat and the outbox relay) through honcho, wait
until the web process answers, then print the logins and links, and nothing else: every process's
output goes to var/log/. Ctrl-C stops the processes (honcho shuts them down), then with_services
stops the servers.

Only the demo's own choices are set here (the fake payment gateway, mail into var/mail, local
webhook targets, throwaway secrets kept in var/secrets.env); anything already in the environment wins.
"""
import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 90


def say(message: str) -> None:
    print(message, flush=True)


def throwaway_secrets(var: Path) -> dict:
    """The demo's secrets: made once on this machine by config.dev_secrets, kept in var/secrets.env so
    sessions and signed links survive a restart, removed by `make clean`. Never the repository's."""
    secrets_file = var / "secrets.env"
    subprocess.run([sys.executable, "-m", "config.dev_secrets", str(secrets_file)], cwd=ROOT, check=True,
                   stderr=subprocess.DEVNULL)
    # Settings read the file themselves; naming it keeps a --var folder other than ./var in use.
    return {"DEV_SECRETS_FILE": str(secrets_file)}


def demo_environment(port: str, var: Path) -> dict:
    base_url = f"http://127.0.0.1:{port}"
    demo = {
        "PORT": port,
        "DEBUG": "false",
        "PAYMENT_GATEWAY": "fake",
        "WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(var / "mail"),
        "EVENTS_PUBLIC_BASE_URL": base_url,
        "CELERY_BEAT_SCHEDULE_FILE": str(var / "celerybeat-schedule"),
        "PROMETHEUS_MULTIPROC_DIR": str(var / "prometheus"),
        "WEB_CONCURRENCY": "2",
        "CELERY_CONCURRENCY": "2",
        **throwaway_secrets(var),
    }
    given = {k: os.environ[k] for k in (*demo, "DATABASE_URL", "REDIS_URL") if k in os.environ}
    # What the stack runs with, for `manage.py` commands in another shell (`set -a; . var/run.env`).
    (var / "run.env").write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in {**demo, **given}.items()))
    (var / "run.env").chmod(0o600)
    # The virtualenv's commands (gunicorn, celery) first, as the Procfile names them.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**demo, **os.environ, "PATH": path}


def run_step(name: str, args: list[str], env: dict, logs: Path) -> str:
    """A set-up step; its output goes to var/log/NAME.log. Returns its standard output."""
    with open(logs / f"{name}.log", "w") as log:
        result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=log, text=True, stdin=subprocess.DEVNULL)
        log.write(result.stdout)
    if result.returncode:
        sys.exit(f"make run: {name} failed; see {logs / f'{name}.log'}:\n{tail(logs / f'{name}.log')}")
    return result.stdout


def tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def main(argv) -> int:
    parser = argparse.ArgumentParser(description="make run's stack, on the servers in the environment")
    parser.add_argument("--var", type=Path, default=ROOT / "var",
                        help="where logs, mail and demo secrets are kept (with_services.py --data's folder)")
    var = parser.parse_args(argv).var.resolve()
    logs = var / "log"
    logs.mkdir(parents=True, exist_ok=True)
    (var / "mail").mkdir(exist_ok=True)
    port = os.environ.get("PORT", "8000")
    env = demo_environment(port, var)
    say(f"make run: migrating and seeding the demo (logs in {logs}/)...")
    run_step("migrate", ["manage.py", "migrate", "--no-input"], env, logs)
    summary = run_step("seed", ["manage.py", "demo_seed", "--base-url", f"http://127.0.0.1:{port}"], env, logs)

    stack_log = open(logs / "stack.log", "a")
    stop_requested = []
    # Ctrl-C reaches every process of the terminal's group: honcho stops the web, worker, beat and relay
    # processes, and this script only waits for it. A SIGTERM (from with_services) is passed on.
    signal.signal(signal.SIGINT, lambda *_: stop_requested.append("SIGINT"))
    stack = subprocess.Popen([sys.executable, "-m", "honcho", "start", "-f", "Procfile", "--no-colour"],
                             cwd=ROOT, env=env, stdout=stack_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def on_sigterm(*_):
        stop_requested.append("SIGTERM")
        stack.terminate()

    signal.signal(signal.SIGTERM, on_sigterm)
    deadline = time.monotonic() + STARTUP_SECONDS
    while not answers(f"http://127.0.0.1:{port}/healthz"):
        if stack.poll() is not None or time.monotonic() > deadline:
            stack.terminate()
            stack.wait()
            sys.exit(f"make run: the stack did not start; {logs}/stack.log ends with:\n{tail(logs / 'stack.log')}")
        time.sleep(0.25)
    say(summary.rstrip())
    say(f"Running: web (gunicorn), Celery worker, beat and the outbox relay; logs in {logs}/. Ctrl-C stops everything.")
    exit_code = stack.wait()
    return 0 if stop_requested else exit_code  # a requested stop is a clean one


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
