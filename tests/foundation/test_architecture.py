"""The dependency order (pyproject.toml's import-linter contracts) holds: CI runs only `make test`, so it is checked here."""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert f"{len(contracts)} kept, 0 broken" in result.stdout  # every contract in pyproject.toml was checked



# The apps whose code takes row locks; their migrations are history and are left as they ran.
LOCKING_APPS = ("core", "guardians", "wallet", "vouchers", "canteen", "events", "audit", "api")


def _select_for_update_calls():
    for app in LOCKING_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "select_for_update":
                    yield path.relative_to(ROOT), node


def test_every_row_lock_names_its_own_table():
    """`of=` on every select_for_update: without it PostgreSQL also locks every row a select_related
    joined (a voucher's program, a terminal's merchant, a period's school), which turns those into
    rows every writer queues on. The lock timeout is the connection's default (tests/events/test_lock_timeout.py)."""
    calls = list(_select_for_update_calls())
    assert len(calls) > 40  # the scan sees the code
    missing = [f"{path}:{node.lineno}" for path, node in calls if not any(keyword.arg == "of" for keyword in node.keywords)]
    assert missing == []
