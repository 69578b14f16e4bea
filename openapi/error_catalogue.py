"""Every stable error code the API answers with, found by reading (never importing) the code.

Where codes are declared, one place per app:
- the kernel's and each domain app's `errors.py` (and `core/webhooks/errors.py`): a class with `code = "..."`,
  its HTTP status following from its kind (the bases mapped in api/errors.py, 422 otherwise);
- `api/errors.py`: `HTTP_CODES`, the codes the HTTP layer produces itself, and
  `HTTP_STATUS_OF_DOMAIN_CODES`, the domain codes the API answers with another status.

Where codes are raised is read too: every `code="..."` passed to an error or a problem response,
and every `default_code`/`code` of an exception class outside the errors modules. A code raised
but not declared is a `Mint`; tests/foundation/test_openapi.py fails on any. Stdlib only, so
scripts/error_codes.py runs without Django.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AREAS = {  # in the order of docs/api.md's table
    "core": "Any area (the kernel: school time)",
    "canteen": "Canteen",
    "events": "Events",
    "guardians": "People, links, sessions",
    "vouchers": "Vouchers",
    "wallet": "Wallet, cards, top-ups",
    "webhooks": "Outbound webhooks",
}
KIND_STATUS = {"NotFoundError": 404, "ConflictError": 409, "ForbiddenError": 403, "PaymentRefusedError": 402, "InvalidInputError": 400}
SPECIAL_STATUS = {"SessionRevoked": 401}
KINDS = {"DomainError", *KIND_STATUS}
# Callables whose `code=` is a problem's top-level code. DRF's ValidationError is left out on
# purpose: its codes are the per-field `errors[].code` of a `validation_error`, not problem codes.
PROBLEM_MAKERS = {"problem_response", "problem_http_response", "APIException", "AuthenticationFailed",
                  "NotAuthenticated", "PermissionDenied", "NotFound", "Throttled", "ParseError", "MethodNotAllowed"}
SKIPPED_DIRS = {".venv", "tests", "migrations", "bench", "var", "node_modules", "examples", "scripts", ".git"}


@dataclass(frozen=True)
class Code:
    status: int
    code: str
    area: str
    meaning: str


@dataclass(frozen=True)
class Mint:
    """A code raised at `where` that no errors module declares."""

    code: str
    where: str


def errors_modules() -> list[Path]:
    """core first: the other apps' errors derive from its kinds."""
    found = sorted(ROOT.glob("*/errors.py")) + sorted(ROOT.glob("*/*/errors.py"))
    return sorted((p for p in found if p.parent.name in AREAS), key=lambda p: p.parent.name != "core")


def _literal_fields(node: ast.ClassDef) -> dict:
    fields = {}
    for item in node.body:
        if isinstance(item, ast.Assign) and isinstance(item.targets[0], ast.Name):
            try:
                fields[item.targets[0].id] = ast.literal_eval(item.value)
            except ValueError:
                pass
    return fields


def _name(node) -> str:
    return getattr(node, "id", getattr(node, "attr", ""))


def domain_codes() -> list[Code]:
    statuses: dict[str, int] = {"DomainError": 422, **KIND_STATUS}
    overrides = http_status_of_domain_codes()
    codes = []
    for path in errors_modules():
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.ClassDef):
                continue
            status = next((statuses[b] for b in map(_name, node.bases) if b in statuses), None)
            if status is None:  # not a DomainError (a mixin such as LookupFailure)
                continue
            statuses.setdefault(node.name, SPECIAL_STATUS.get(node.name, status))
            fields = _literal_fields(node)
            if "code" in fields and node.name not in KINDS:
                code = fields["code"]
                status = overrides.get(code, statuses[node.name])
                codes.append(Code(status, code, AREAS[path.parent.name], fields.get("default_message", "")))
    return codes


def _api_errors_constant(name: str):
    for node in ast.parse((ROOT / "api" / "errors.py").read_text()).body:
        if isinstance(node, ast.Assign) and _name(node.targets[0]) == name:
            return ast.literal_eval(node.value)
    raise LookupError(f"api/errors.py declares no {name}")


def http_codes() -> list[Code]:
    return [Code(status, code, "any", meaning) for status, code, meaning in _api_errors_constant("HTTP_CODES")]


def http_status_of_domain_codes() -> dict[str, int]:
    return dict(_api_errors_constant("HTTP_STATUS_OF_DOMAIN_CODES"))


def catalogue() -> list[Code]:
    """The table of docs/api.md: the HTTP layer's codes, then each area's, sorted by status and code."""
    domain = sorted(domain_codes(), key=lambda c: (list(AREAS.values()).index(c.area), c.status, c.code))
    return http_codes() + domain


def _source_files():
    for path in sorted(ROOT.rglob("*.py")):
        if not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts):
            yield path


def raised_codes() -> list[tuple[str, str]]:
    """(code, "path:line") for every literal code handed to an error or a problem outside the errors modules."""
    declaring = {*errors_modules(), ROOT / "api" / "errors.py"}
    found = []
    for path in _source_files():
        if path in declaring:
            continue
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and (_is_error_name(_name(node.func)) or _name(node.func) in PROBLEM_MAKERS):
                for keyword in node.keywords:
                    if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                        found.append((keyword.value.value, f"{where}:{node.lineno}"))
            elif isinstance(node, ast.ClassDef) and any(_is_error_name(_name(b)) or _name(b) in PROBLEM_MAKERS for b in node.bases):
                fields = _literal_fields(node)
                for attribute in ("code", "default_code"):
                    if isinstance(fields.get(attribute), str):
                        found.append((fields[attribute], f"{where}:{node.lineno}"))
    return found


FIELD_ERRORS = {"ValidationError", "DjangoValidationError"}


def _is_error_name(name: str) -> bool:
    if name in FIELD_ERRORS:
        return False
    return name.endswith(("Error", "Exception", "Invalid", "Refused", "Failed", "Throttled")) or name in _domain_class_names()


_DOMAIN_CLASSES: set[str] = set()


def _domain_class_names() -> set[str]:
    if not _DOMAIN_CLASSES:
        for path in errors_modules():
            _DOMAIN_CLASSES.update(n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.ClassDef))
    return _DOMAIN_CLASSES


def inline_domain_mints() -> list[Mint]:
    """Domain errors given a code where they are raised: the code belongs in the app's errors.py."""
    domain = _domain_class_names()
    mints = []
    for path in _source_files():
        if path in errors_modules():
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and _name(node.func) in domain:
                for keyword in node.keywords:
                    if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                        mints.append(Mint(keyword.value.value, f"{path.relative_to(ROOT)}:{node.lineno}"))
    return mints


def undeclared() -> list[Mint]:
    """Codes raised somewhere that the catalogue (and so docs/api.md) does not hold."""
    known = {c.code for c in catalogue()}
    return [Mint(code, where) for code, where in raised_codes() if code not in known]


# Codes no operation of the schema can list: they answer a path or method that is not an operation,
# or a failure of ours. docs/api.md lists them with the others.
OUTSIDE_OPERATIONS = {"method_not_allowed", "internal_error"}


def raised_domain_codes() -> dict[str, list[str]]:
    """Code -> where, for each domain error class used outside the errors modules other than to catch it
    (raised directly, or picked from a table and raised later, as the card caps are)."""
    codes = _domain_class_codes()
    where: dict[str, list[str]] = {}
    for path in _source_files():
        if path in errors_modules():
            continue
        tree = ast.parse(path.read_text())
        caught = {id(n) for handler in ast.walk(tree) if isinstance(handler, ast.ExceptHandler) and handler.type
                  for n in ast.walk(handler.type)}
        built = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load) and id(node) not in caught:
                # The kinds are read in isinstance checks everywhere; they count only where built.
                if _name(node) in codes and (_name(node) not in KINDS or id(node) in built):
                    where.setdefault(codes[_name(node)], []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return where


def _domain_class_codes() -> dict[str, str]:
    """Class name -> code, each class with the code it declares or inherits."""
    codes: dict[str, str] = {}
    for path in errors_modules():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef):
                inherited = next((codes[b] for b in map(_name, node.bases) if b in codes), None)
                code = _literal_fields(node).get("code", inherited)
                if code:
                    codes[node.name] = code
    return codes


def codes_operations_can_return() -> set[str]:
    """What the schema must list somewhere: the HTTP layer's codes and every domain code that is raised."""
    return ({c.code for c in http_codes()} | set(raised_domain_codes())) - OUTSIDE_OPERATIONS
