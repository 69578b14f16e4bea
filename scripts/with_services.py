#!/usr/bin/env python3
"""Run a command against throwaway PostgreSQL and Redis servers.

    python scripts/with_services.py -- .venv/bin/pytest -q ...
    python scripts/with_services.py --print-env     # keep services up for a shell

A fresh PostgreSQL cluster and a Redis server are started on free ports of
127.0.0.1 inside a temporary directory, the command runs with DATABASE_URL and
REDIS_URL pointing at them, and everything is torn down afterwards (normal
exit, exception, SIGINT, SIGTERM). System-wide services are never used or
touched, so tests cannot pollute a developer's databases and parallel runs
cannot collide. Stdlib only: it must run before any dependency is installed.
"""
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

MIN_PG = 14
IS_ROOT = os.geteuid() == 0
# Throwaway-cluster settings. Durability is pointless for data deleted minutes
# later, so fsync/synchronous_commit/full_page_writes are off (large speedup
# for the many small commits tests do). 300 connections: concurrency tests open
# ~60 threads per test and pytest-xdist may run 2 workers, each with its own
# test database. JIT only slows down the short queries tests issue.
PG_SETTINGS = {
    "listen_addresses": "'127.0.0.1'", "fsync": "off", "synchronous_commit": "off",
    "full_page_writes": "off", "max_connections": "300", "shared_buffers": "128MB",
    "jit": "off",
}


class Interrupted(Exception):
    """A SIGINT/SIGTERM that arrived before the command was started."""


_received = None  # signal number that arrived during startup, if any


def check_interrupt():
    """Startup steps are never killed halfway (a killed runuser would orphan a
    half-started initdb/postgres); a signal is acted on between steps."""
    if _received:
        raise Interrupted(_received)


def log(msg):
    print(f"with_services: {msg}", file=sys.stderr, flush=True)


def find_pg_bindir():
    """Return (bindir, major) of the newest PostgreSQL >= MIN_PG with initdb/pg_ctl."""
    candidates = glob.glob("/usr/lib/postgresql/*/bin")
    if shutil.which("initdb"):  # resolve symlinks so createdb is found beside it
        candidates.append(os.path.dirname(os.path.realpath(shutil.which("initdb"))))
    best = None
    for d in candidates:
        if not all(os.access(os.path.join(d, b), os.X_OK) for b in ("initdb", "pg_ctl")):
            continue
        out = subprocess.run([os.path.join(d, "initdb"), "--version"],
                             capture_output=True, text=True).stdout
        m = re.search(r"(\d+)(?:\.\d+)?", out)
        if m and int(m.group(1)) >= MIN_PG and (best is None or int(m.group(1)) > best[1]):
            best = (d, int(m.group(1)))
    return best


def ensure_binaries():
    """Find (or, as root on Debian/Ubuntu, apt-install) PostgreSQL and Redis."""
    pg, redis = find_pg_bindir(), shutil.which("redis-server")
    pkgs = ([] if pg else ["postgresql"]) + ([] if redis else ["redis-server"])
    if pkgs and IS_ROOT and shutil.which("apt-get"):
        log(f"installing {' '.join(pkgs)} via apt-get (one-time)...")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        lock = ["-o", "DPkg::Lock::Timeout=900"]  # wait for a concurrent apt/dpkg
        for cmd in (["apt-get", *lock, "update", "-qq"],
                    ["apt-get", *lock, "install", "-y", "-qq", *pkgs]):
            r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            if r.returncode:
                sys.stderr.write(r.stdout)
                sys.exit(f"with_services: '{' '.join(cmd)}' failed")
        pg, redis = find_pg_bindir(), shutil.which("redis-server")
    if pg and redis:
        return pg, redis
    print(f"with_services: need PostgreSQL >= {MIN_PG} server binaries (initdb, "
          "pg_ctl) and redis-server. Install them, e.g.:\n"
          f"  Debian/Ubuntu: sudo apt-get install -y {' '.join(pkgs)}\n"
          "  Fedora:        sudo dnf install -y postgresql-server redis\n"
          "  macOS:         brew install postgresql@16 redis", file=sys.stderr)
    sys.exit(2)


def free_port():
    # Bind to port 0 so the kernel picks an unused port. There is a tiny race
    # until the server binds it; startup is retried with a new port on failure.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class Services:
    def __init__(self, pg_bindir, redis_bin):
        self.bindir, self.redis_bin = pg_bindir, redis_bin
        self.redis_proc, self.pg_started = None, False
        # /tmp rather than $TMPDIR: it stays reachable for the postgres user
        # when we are root, and keeps the socket path under the ~104 byte limit.
        self.tmp = tempfile.mkdtemp(prefix="tuckbox-svc-",
                                    dir="/tmp" if os.path.isdir("/tmp") else None)
        self.data = os.path.join(self.tmp, "data")
        self.logf = open(os.path.join(self.tmp, "setup.log"), "w")

    def pg(self, prog, *args, check=True):
        """Run a PostgreSQL tool, as user postgres via runuser when we are root
        (initdb/pg_ctl exit with "cannot be run as root"), logging its output."""
        cmd = [os.path.join(self.bindir, prog), *args]
        if IS_ROOT:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        # cwd=tmp: initdb fails if it cannot access the caller's cwd. Own
        # session: a terminal Ctrl-C is handled by us, not half-way in the tool.
        return subprocess.run(cmd, stdout=self.logf, stderr=subprocess.STDOUT, cwd=self.tmp,
                              stdin=subprocess.DEVNULL, start_new_session=True, check=check)

    def start_redis(self):
        for _ in range(3):
            port = free_port()
            # Own session: a Ctrl-C meant for the command must not kill Redis
            # while the command (e.g. pytest) is still shutting down.
            self.redis_proc = subprocess.Popen(
                [self.redis_bin, "--port", str(port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--daemonize", "no",
                 "--dir", self.tmp],
                stdout=self.logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.redis_proc.poll() is None:
                check_interrupt()
                if redis_ping(port):
                    return port
                time.sleep(0.02)
            self.redis_proc.kill()
            self.redis_proc.wait()
        raise RuntimeError("redis-server did not start")

    def start_postgres(self):
        if IS_ROOT:
            shutil.chown(self.tmp, "postgres", "postgres")
        # trust auth on loopback only: throwaway data, no password plumbing.
        # --no-sync: skip flushing the fresh cluster to disk (fsync is off anyway).
        self.pg("initdb", "-D", self.data, "-U", "postgres", "-A", "trust",
                "-E", "UTF8", "--locale=C", "--no-sync")
        check_interrupt()
        conf = os.path.join(self.data, "postgresql.conf")
        settings = dict(PG_SETTINGS, unix_socket_directories=f"'{self.tmp}'")
        for _ in range(3):
            port = free_port()
            with open(conf, "a") as f:  # later lines override earlier ones
                f.writelines(f"{k} = {v}\n" for k, v in {**settings, "port": port}.items())
            self.pg_started = True
            r = self.pg("pg_ctl", "-D", self.data, "-l", os.path.join(self.tmp, "postgres.log"),
                        "-w", "-t", "60", "start", check=False)
            check_interrupt()
            if r.returncode == 0:
                self.pg("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                        "-O", "postgres", "tuckbox")
                return port
        raise RuntimeError("PostgreSQL did not start")

    def dump_logs(self):
        self.logf.flush()
        for path in glob.glob(os.path.join(self.tmp, "*.log")):
            sys.stderr.write(f"--- {path} ---\n" + open(path, errors="replace").read())

    def stop_postgres(self):
        try:
            pid = int(open(os.path.join(self.data, "postmaster.pid")).readline())
        except (OSError, ValueError):
            pid = None
        # -m immediate: no shutdown checkpoint, the data is thrown away anyway.
        self.pg("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)
        # pg_ctl returns once postmaster.pid is gone, but the postmaster still
        # removes its socket files afterwards; wait until it has exited (or is a
        # zombie awaiting reaping by init) so rmtree does not race with it.
        deadline = time.monotonic() + 5
        while pid and time.monotonic() < deadline:
            try:
                if open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            except (OSError, IndexError):
                break
            time.sleep(0.02)

    def stop(self):
        try:
            if self.pg_started:
                self.stop_postgres()
        finally:
            if self.redis_proc and self.redis_proc.poll() is None:
                self.redis_proc.terminate()
                try:
                    self.redis_proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.redis_proc.kill()
                    self.redis_proc.wait()
            self.logf.close()
            shutil.rmtree(self.tmp, ignore_errors=True)


def main(argv):
    if argv == ["--print-env"]:
        cmd = None
    elif argv and argv[0] == "--" and len(argv) > 1:
        cmd = argv[1:]
    else:
        print("usage: with_services.py -- COMMAND [ARGS...] | --print-env", file=sys.stderr)
        return 2
    (bindir, major), redis_bin = ensure_binaries()
    if IS_ROOT and not any(u.pw_name == "postgres" for u in pwd.getpwall()):
        log("as root, a 'postgres' system user is needed (useradd --system postgres)")
        return 2
    state = {"child": None}

    def on_signal(signum, _frame):
        global _received
        _received = _received or signum  # startup / --print-env: checked between steps
        child = state["child"]
        # With a running command we wait for it to exit, then clean up. A
        # terminal Ctrl-C already reached the command (same foreground process
        # group), so SIGINT is not forwarded (a duplicate would interrupt
        # e.g. pytest's own shutdown). SIGTERM is sent to us alone: forward it.
        if child and signum == signal.SIGTERM:
            child.send_signal(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    t0 = time.monotonic()
    svc = Services(bindir, redis_bin)
    try:
        try:
            redis_port = svc.start_redis()
            pg_port = svc.start_postgres()
        except (subprocess.CalledProcessError, RuntimeError) as e:
            svc.dump_logs()
            log(f"startup failed: {e}")
            return 1
        env = {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg_port}/tuckbox",
               "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
        log(f"postgresql {major} on :{pg_port}, redis on :{redis_port} "
            f"(up in {time.monotonic() - t0:.1f}s)")
        if cmd is None:
            for k, v in env.items():
                print(f"export {k}={v}", flush=True)
            log("press Ctrl-C to stop")
            while not _received:
                time.sleep(0.2)  # (not signal.pause(): it races with the check)
        check_interrupt()
        try:
            state["child"] = subprocess.Popen(cmd, env={**os.environ, **env})
        except OSError as e:
            log(f"cannot run {cmd[0]}: {e}")
            return 127
        if _received:  # signal arrived while the command was being started
            state["child"].terminate()
        rc = state["child"].wait()  # PEP 475: wait() resumes after handlers
        return 128 - rc if rc < 0 else rc  # killed by signal N -> 128+N, like a shell
    except Interrupted as e:
        return 0 if cmd is None else 128 + e.args[0]
    finally:
        # Ignore further signals so a second Ctrl-C cannot abort the teardown.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        svc.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
