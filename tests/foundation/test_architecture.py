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



# Every row lock is taken by the helpers of core/locks.py (primary-key order, `of=("self",)`, FOR NO
# KEY UPDATE unless key=True, the lock timeout). Not scanned: migrations are history as it ran, bench/
# measures PostgreSQL itself, tests hold locks from other sessions on purpose.
LOCK_HELPERS = Path("core/locks.py")
NOT_SCANNED = {"tests", "bench", "migrations", "var", "node_modules"}


def _project_sources():
    for top in sorted(ROOT.iterdir()):
        if top.name.startswith(".") or top.name in NOT_SCANNED:
            continue
        paths = sorted(top.rglob("*.py")) if top.is_dir() else [top] if top.suffix == ".py" else []
        for path in paths:
            relative = path.relative_to(ROOT)
            if not NOT_SCANNED & set(relative.parts):
                yield relative


def _select_for_update_uses():
    """(file, top-level function or None, node) of every `.select_for_update` in the project's code:
    the call when it is called, the attribute itself when it is only named."""
    for relative in _project_sources():
        tree = ast.parse((ROOT / relative).read_text(), filename=str(relative))
        for top in tree.body:
            function = top.name if isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef) else None
            calls = {id(node.func): node for node in ast.walk(top) if isinstance(node, ast.Call)}
            for node in ast.walk(top):
                if isinstance(node, ast.Attribute) and node.attr == "select_for_update":
                    yield relative, function, calls.get(id(node), node)


def test_every_row_lock_goes_through_core_locks():
    """A select_for_update anywhere else may skip what the helpers guarantee: the primary-key order
    that keeps concurrent writers from deadlocking, `of=("self",)`, a mode chosen on purpose."""
    uses = list(_select_for_update_uses())
    assert any(path == LOCK_HELPERS for path, _, _ in uses)  # the scan sees the code
    inline = [f"{path}:{node.lineno}" for path, _, node in uses if path != LOCK_HELPERS]
    assert inline == [], (
        f"select_for_update outside {LOCK_HELPERS}: {inline}. Lock rows with core.locks instead: "
        "lock_objects(queryset) for many rows (a list, in primary-key order), lock_one(queryset) for one "
        "(as .get()) or lock_one_or_none(queryset) (as .first()); key=True where the transaction deletes "
        "the row or changes a column of a unique index (FOR UPDATE), skip_locked=True for a claim."
    )


def test_every_row_lock_names_its_own_table():
    """`of=` on every select_for_update (the helpers'): without it
    PostgreSQL also locks every row a select_related joined (a voucher's program, a terminal's
    merchant, a period's school), which turns those into rows every writer queues on. The lock
    timeout is the connection's default (tests/events/test_lock_timeout.py)."""
    calls = [(path, node) for path, _, node in _select_for_update_uses() if isinstance(node, ast.Call)]
    assert any(path == LOCK_HELPERS for path, _ in calls)  # the scan sees the helpers' lock
    missing = [f"{path}:{node.lineno}" for path, node in calls if not any(keyword.arg == "of" for keyword in node.keywords)]
    assert missing == []
