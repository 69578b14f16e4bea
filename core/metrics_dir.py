"""The directory where every process writes its metrics when several serve one `/metrics`.

prometheus_client's multiprocess mode: each gunicorn worker and Celery process keeps its
counters in memory-mapped files named by its pid under `PROMETHEUS_MULTIPROC_DIR`, and
`/metrics` adds them up. The variable must be set before prometheus_client is imported,
which is why this module is stdlib only: gunicorn's config and Celery's start import it first.

At start, files of processes that are no longer running are removed (their counts belong to
the previous run; Prometheus sees the drop as a counter reset), while files of live processes
are kept: the Celery worker may have started before gunicorn, in the same directory.
"""

import os
import re
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
_PID_IN_NAME = re.compile(r"_(\d+)\.db$")


def multiproc_dir_prepare(path: str | os.PathLike) -> Path:
    """Create the directory if needed and drop the files of dead processes. Returns the path."""
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    for file in directory.glob("*.db"):
        match = _PID_IN_NAME.search(file.name)
        if match and not _running(int(match.group(1))):
            file.unlink(missing_ok=True)
    return directory


def multiproc_dir_from_env(default: str | os.PathLike | None = None) -> Path | None:
    """Set up the directory named by PROMETHEUS_MULTIPROC_DIR (or `default`, exported for what follows)."""
    path = os.environ.get(ENV) or (str(default) if default else "")
    if not path:
        return None
    os.environ[ENV] = path
    return multiproc_dir_prepare(path)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True
