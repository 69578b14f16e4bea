"""The web and worker processes freeze the objects of the loaded application, so Python's collector
never walks them again: a full collection over them was a pause of about 0.1 s on whichever request
or job was running (config/gunicorn.conf.py, config/celery.py; docs/performance.md)."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _frozen_after(script: str) -> int:
    """The number of frozen objects once `script` (run in a fresh interpreter) has set up its process."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


def test_gunicorn_freezes_the_preloaded_application_before_it_forks_a_worker(tmp_path):
    frozen = _frozen_after(
        "import gc, os, runpy\n"
        f"os.environ['PROMETHEUS_MULTIPROC_DIR'] = {str(tmp_path)!r}\n"
        "hooks = runpy.run_path('config/gunicorn.conf.py')\n"
        "import config.wsgi\n"  # what preload_app imports in the master
        "assert gc.get_freeze_count() == 0\n"
        "hooks['pre_fork'](None, None)\n"
        "print(gc.get_freeze_count())\n"
    )
    assert frozen > 50_000  # Django, DRF and every app: well over a hundred thousand objects


def test_a_celery_worker_process_freezes_the_application_it_starts_with():
    frozen = _frozen_after(
        "import gc, django\n"
        "django.setup()\n"
        "from celery.signals import worker_process_init\n"
        "from config.celery import app\n"
        "app.loader.import_default_modules()\n"  # every app's tasks, as a worker loads them
        "assert gc.get_freeze_count() == 0\n"
        "worker_process_init.send(sender='test')\n"
        "print(gc.get_freeze_count())\n"
    )
    assert frozen > 50_000
