"""The third-party tools the client-generation tests run, installed once into var/client-generation/.

openapi-python-client is pinned in requirements-dev.txt and installs beside our own pins (its
pydantic, attrs and httpx ranges include ours), so it normally runs from our venv. If it is
missing (a venv made before the pin), a venv of its own is made under var/ and the generator
runs from there: only the generated package is imported here, and it needs just httpx, attrs
and python-dateutil, which we have. The npm tools go into a cached prefix under var/, and the
TypeScript example's locked packages (examples/typescript/package-lock.json) into one of their own.

A tool that cannot be installed fails the tests, it never skips them: every machine of this
project, CI's included, has node and npm and reaches PyPI and the npm registry, so a failed
install is a fault to see, not a reason to pass quietly.
"""

import fcntl
import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "openapi" / "openapi.yaml"
CACHE = ROOT / "var" / "client-generation"
GENERATOR_VERSION = "0.29.1"  # as in requirements-dev.txt
NODE_PACKAGES = {"openapi-typescript": "7.13.0", "typescript": "5.9.3", "@stoplight/spectral-cli": "6.16.3"}


@contextmanager
def _locked(name: str):
    """xdist workers share the cache: one installs while the other waits."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _run(command: list, *, timeout: int, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=timeout, cwd=cwd)


def generator_command() -> list[str]:
    if importlib.util.find_spec("openapi_python_client") is not None:
        return [sys.executable, "-m", "openapi_python_client"]
    venv = CACHE / "generator-venv"
    python = venv / "bin" / "python"
    marker = venv / f".installed-{GENERATOR_VERSION}"
    with _locked("generator"):
        if not marker.exists():
            try:
                _run([sys.executable, "-m", "venv", "--clear", venv], timeout=120).check_returncode()
                installed = _run([python, "-m", "pip", "install", "-q", f"openapi-python-client=={GENERATOR_VERSION}"], timeout=600)
            except (OSError, subprocess.SubprocessError) as exc:
                pytest.fail(f"openapi-python-client cannot be installed: {exc}")
            if installed.returncode:
                pytest.fail(f"openapi-python-client {GENERATOR_VERSION} cannot be installed (no network?): {installed.stderr[-500:]}")
            marker.touch()
    return [str(python), "-m", "openapi_python_client"]


def node_bin() -> Path:
    """node_modules/.bin of the cached npm prefix, installing the pinned packages the first time."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.fail("node and npm are needed to run openapi-typescript, tsc and Spectral (see this module's docstring)")
    prefix = CACHE / "node"
    wanted = json.dumps(NODE_PACKAGES, sort_keys=True)
    marker = prefix / f".installed-{hashlib.sha256(wanted.encode()).hexdigest()[:12]}"
    with _locked("node"):
        if not marker.exists():
            prefix.mkdir(parents=True, exist_ok=True)
            (prefix / "package.json").write_text(json.dumps({"private": True, "dependencies": NODE_PACKAGES}, indent=2))
            try:
                installed = _run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], timeout=600, cwd=prefix)
            except (OSError, subprocess.SubprocessError) as exc:
                pytest.fail(f"npm packages cannot be installed: {exc}")
            if installed.returncode:
                pytest.fail(f"npm packages {NODE_PACKAGES} cannot be installed (no network?): {installed.stderr[-500:]}")
            marker.touch()
    return prefix / "node_modules" / ".bin"


TYPESCRIPT_EXAMPLE = ROOT / "examples" / "typescript"


def locked_node_modules(project: Path, what: str) -> Path:
    """node_modules of an npm project of ours, installed once with `npm ci` from its committed lock
    file into a cache keyed by the lock file's hash (xdist workers share it: one installs)."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.fail(f"node and npm are needed for {what}")
    lock = (project / "package-lock.json").read_bytes()
    prefix = CACHE / f"{project.name}-{hashlib.sha256(lock).hexdigest()[:12]}"
    with _locked(project.name):
        if not (prefix / ".installed").exists():
            prefix.mkdir(parents=True, exist_ok=True)
            for name in ("package.json", "package-lock.json"):
                shutil.copy(project / name, prefix / name)
            try:
                installed = _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], timeout=600, cwd=prefix)
            except (OSError, subprocess.SubprocessError) as exc:
                pytest.fail(f"the packages of {what} cannot be installed: {exc}")
            if installed.returncode:
                pytest.fail(f"the packages of {what} cannot be installed (no network?): {installed.stderr[-800:]}")
            (prefix / ".installed").touch()
    return prefix / "node_modules"


def typescript_example_modules() -> Path:
    """node_modules of examples/typescript."""
    return locked_node_modules(TYPESCRIPT_EXAMPLE, "examples/typescript")


def run(command: list, *, timeout: int = 240, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env)


def start(command: list) -> subprocess.Popen:
    """Run a tool in the background; `finish` waits for it."""
    return subprocess.Popen([str(part) for part in command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen, *, timeout: int = 240) -> int:
    stdout, stderr = process.communicate(timeout=timeout)
    process.stdout_text, process.stderr_text = stdout, stderr
    return process.returncode


PYTHON_CLIENT_CONFIG = ROOT / "openapi" / "python-client.yaml"


def generate_python_client(out: Path) -> list[str]:
    """Generate the `tuckbox_client` package into `out` with openapi/python-client.yaml; returns what
    the generator said besides naming its output (its warnings: an operation or a model it left out)."""
    target = out / "tuckbox_client"
    result = _run(
        [*generator_command(), "generate", "--path", SCHEMA, "--meta", "none", "--output-path", target, "--config", PYTHON_CLIENT_CONFIG],
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = [line for line in (result.stdout + "\n" + result.stderr).splitlines() if line.strip()]
    return [line for line in lines if line != f"Generating {target}"]
