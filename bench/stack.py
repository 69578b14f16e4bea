"""Start and stop the Procfile's processes (web, worker, beat, relay) and watch the web workers' memory.

`make run` runs the Procfile with honcho; the benchmark starts the very same
command lines here, so what is measured is what is deployed.
"""

import os
import re
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")


def procfile(path: Path = REPO / "Procfile") -> dict[str, str]:
    processes = {}
    for line in path.read_text().splitlines():
        match = _LINE.match(line.strip())
        if match and not line.lstrip().startswith("#"):
            processes[match.group(1)] = match.group(2)
    return processes


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (its own, not its reaped children's)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _status_kib(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class Stack:
    """The Procfile's processes, each in its own process group, logging to files."""

    def __init__(self, *, env: dict[str, str], log_dir: Path, names: tuple[str, ...] | None = None):
        self.env = {**env, "PATH": f"{REPO / '.venv' / 'bin'}:{env.get('PATH', '')}"}
        self.log_dir = log_dir
        self.names = tuple(procfile()) if names is None else names  # every process type, as deployed
        self.processes: dict[str, subprocess.Popen] = {}
        self.peak_rss_kib: dict[int, int] = {}
        self._watching = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self, *, port: int, timeout: float = 60) -> None:
        commands = procfile()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in self.names:
            log = open(self.log_dir / f"{name}.log", "w")
            # exec: the shell becomes the process, so its pid is gunicorn's (or celery's) master. Its own
            # process group (to stop it with its children) but this session, as honcho runs the Procfile
            # (`make run`): Linux shares the CPU between sessions first (autogroups), so a session of its
            # own would void the worker's lower priority (Procfile, nice).
            self.processes[name] = subprocess.Popen(
                ["sh", "-c", f"exec {commands[name]}"],
                cwd=REPO,
                env={**self.env, "PORT": str(port)},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                process_group=0,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes["web"].poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_dir / 'web.log'}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    if response.status == 200 and len(self.web_workers()) >= self.expected_workers():
                        break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError(f"the stack did not become healthy in {timeout}s; see {self.log_dir}")
        self._watching.set()
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def expected_workers(self) -> int:
        return int(self.env.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1))

    def web_workers(self) -> list[int]:
        web = self.processes.get("web")
        return _children(web.pid) if web else []

    def _sample(self) -> None:
        for pid in self.web_workers():
            peak = _status_kib(pid, "VmHWM")
            if peak is not None:
                self.peak_rss_kib[pid] = max(self.peak_rss_kib.get(pid, 0), peak)

    def _watch(self) -> None:
        while self._watching.is_set():
            self._sample()
            time.sleep(0.5)

    def worker_rss_mb(self) -> dict[str, float]:
        self._sample()
        return {str(pid): round(kib / 1024, 1) for pid, kib in sorted(self.peak_rss_kib.items())}

    def cpu_by_process(self) -> dict[str, dict[int, float]]:
        """CPU seconds so far of each process of the stack, by process type (gunicorn master and workers, ...)."""
        found = {}
        for name, process in self.processes.items():
            found[name] = {pid: cpu_seconds(pid) for pid in [process.pid, *_children(process.pid)]}
        return found

    def other_rss_mb(self) -> dict[str, float]:
        """Current RSS of the Celery processes (master and pool children) and the relay, for the record."""
        found = {}
        for name in ("worker", "beat", "relay"):
            process = self.processes.get(name)
            if process is None:
                continue
            for pid in [process.pid, *_children(process.pid)]:
                rss = _status_kib(pid, "VmRSS")
                if rss is not None:
                    found[f"{name}:{pid}"] = round(rss / 1024, 1)
        return found

    def stop(self) -> None:
        self._watching.clear()
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)  # our own group: gunicorn or celery and their children
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 25
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
