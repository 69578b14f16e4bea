"""What the browser tests run: the apps' own npm packages (web/frontend/package-lock.json: Vite,
TypeScript, openapi-typescript, playwright-core, axe-core) installed once with `npm ci` into a
prefix under var/ keyed by the lock file's hash, and Debian's Chromium.

Chromium is Debian's `chromium` package (README, "Browser tests"): playwright-core drives it with
`executablePath`. When it is missing and we are root with apt (CI is a clean Debian machine as
root), it is installed here; when it cannot be had, the tests fail, never skip.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.toolchain import ROOT, _locked, locked_node_modules

FRONTEND = ROOT / "web" / "frontend"
BUILT = ROOT / "web" / "static" / "web"
CHROMIUM = Path(os.environ.get("TUCKBOX_CHROMIUM", "/usr/bin/chromium"))


def web_modules() -> Path:
    """node_modules of web/frontend, from its committed lock file."""
    return locked_node_modules(FRONTEND, "web/frontend (the web apps)")


def chromium() -> Path:
    """Debian's Chromium, installed with apt-get when missing and we may."""
    with _locked("chromium"):
        if not CHROMIUM.exists() and os.geteuid() == 0 and shutil.which("apt-get"):
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium", "fonts-dejavu-core"]):
                done = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)
                if done.returncode:
                    pytest.fail(f"{' '.join(command)} failed: {done.stderr[-800:]}")
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is needed at {CHROMIUM} (Debian's `chromium` package; set TUCKBOX_CHROMIUM for another path)")
    return CHROMIUM
