"""The committed apps are what their sources build, and they type-check against the committed schema.

- The client types (web/frontend/src/api/tuckbox.ts) are openapi-typescript's output for
  openapi/openapi.yaml, and both apps pass `tsc --noEmit` with them: a schema change that breaks
  an app is a type error here (proved below by breaking one field of the schema on purpose).
- `vite build` from the lock file, in a temporary copy, gives exactly the files committed under
  web/static/web/, so `make run` serves the sources' build with nothing but Python.
- The apps' plain words for error codes are docs/api.md's table (`python -m web.error_words`).
"""

import filecmp
import shutil
from pathlib import Path

import pytest
import yaml

from tests.browser import tools
from tests.integration.toolchain import SCHEMA, run
from web import error_words

pytestmark = pytest.mark.client_generation


def _copy(tmp_path: Path, schema_text: str | None = None) -> Path:
    """web/frontend and the schema, laid out as in the repository, with the cached node_modules."""
    frontend = tmp_path / "web" / "frontend"
    shutil.copytree(tools.FRONTEND, frontend, ignore=shutil.ignore_patterns("node_modules"))
    (frontend / "node_modules").symlink_to(tools.web_modules(), target_is_directory=True)
    (tmp_path / "openapi").mkdir()
    (tmp_path / "openapi" / "openapi.yaml").write_text(schema_text if schema_text is not None else SCHEMA.read_text())
    return frontend


def _generate(frontend: Path):
    generated = run([frontend / "node_modules" / ".bin" / "openapi-typescript", frontend.parents[1] / "openapi" / "openapi.yaml",
                     "--output", frontend / "src" / "api" / "tuckbox.ts"], cwd=frontend)
    assert generated.returncode == 0, generated.stderr[-3000:]


def _tsc(frontend: Path):
    return run([frontend / "node_modules" / ".bin" / "tsc", "--noEmit", "--project", frontend], cwd=frontend, timeout=180)


def test_the_apps_type_check_against_the_committed_schema_and_the_build_is_committed(tmp_path):
    frontend = _copy(tmp_path)
    _generate(frontend)
    assert (frontend / "src" / "api" / "tuckbox.ts").read_text() == (tools.FRONTEND / "src" / "api" / "tuckbox.ts").read_text(), (
        "web/frontend/src/api/tuckbox.ts is stale: run `npm run generate` in web/frontend, then rebuild"
    )
    checked = _tsc(frontend)
    assert checked.returncode == 0, checked.stdout[-3000:]

    built = run([frontend / "node_modules" / ".bin" / "vite", "build", "--logLevel", "error"], cwd=frontend, timeout=180)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    fresh = tmp_path / "web" / "static" / "web"
    assert _tree(fresh) == _tree(tools.BUILT), "web/static/web/ is not what the sources build: run `npm run build` in web/frontend"
    _, mismatch, errors = filecmp.cmpfiles(fresh, tools.BUILT, sorted(_tree(fresh)), shallow=False)
    assert (mismatch, errors) == ([], []), f"built files differ from the committed ones: {mismatch + errors}"


def test_a_schema_change_that_breaks_an_app_is_a_type_error(tmp_path):
    schema = yaml.safe_load(SCHEMA.read_text())
    charge = schema["components"]["schemas"]["CardChargeOutput"]
    charge["properties"]["balance_left"] = charge["properties"].pop("remaining_balance")  # a rename the terminal relies on
    charge["required"] = ["balance_left" if name == "remaining_balance" else name for name in charge["required"]]
    frontend = _copy(tmp_path, yaml.safe_dump(schema, sort_keys=False))
    _generate(frontend)
    checked = _tsc(frontend)
    errors = [line for line in checked.stdout.splitlines() if "error TS" in line]
    assert checked.returncode != 0 and errors, checked.stdout[-2000:]
    assert all(line.startswith("src/terminal/cards.ts") and "remaining_balance" in line for line in errors), errors


def test_the_apps_words_for_error_codes_are_the_documented_table():
    committed = (tools.FRONTEND / "src" / "shared" / "error-words.json").read_text()
    assert committed == error_words.rendered(), "run `python -m web.error_words` after changing error codes"


def _tree(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}
