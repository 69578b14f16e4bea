"""Post-processing of the generated schema.

Error responses are documented with the Problem component; here we publish
them under `application/problem+json`, which is what the API actually sends,
and add the errors every authenticated or body-taking operation can return.
"""

import re

from openapi.security import publish_public_operations

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _problem(description: str) -> dict:
    return {"description": description, "content": {"application/problem+json": {"schema": PROBLEM_REF}}}


# Integer ranges that come from PostgreSQL's column sizes (smallint, integer, bigint), not from
# our rules: a storage detail that clients should not build validation on.
BACKEND_INTEGER_LIMITS = {32767, 2147483647, 9223372036854775807}


def drop_backend_integer_limits(result, generator, request, public):
    """Keep the column sizes of the storage out of the published contract."""

    def walk(node):
        if isinstance(node, dict):
            if node.get("maximum") in BACKEND_INTEGER_LIMITS:
                del node["maximum"]
                if node.get("format") == "int64":
                    del node["format"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result


# Why each scheme's credentials can be refused (api/auth.py).
UNAUTHENTICATED_CODES = {"bearerAuth": ("token_invalid", "session_revoked"), "terminalKey": ("terminal_key_invalid",)}


def add_problem_responses(result, generator, request, public):
    publish_public_operations(result, generator, request, public)  # before: a public operation answers no 401
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                content = response.get("content", {})
                if int(status) >= 400 and "application/json" in content:
                    content["application/problem+json"] = content.pop("application/json")
            schemes = {scheme for requirement in operation.get("security", []) for scheme in requirement}
            secured = bool(schemes)
            if secured:
                _declare(responses, "401", "not_authenticated", "authentication_failed", *(
                    code for scheme in sorted(schemes) for code in UNAUTHENTICATED_CODES[scheme]
                ))
            if secured and "403" not in responses:
                responses["403"] = _problem("Error codes: `permission_denied` (this kind of caller may not use the operation)")
            if "requestBody" in operation:
                _declare(responses, "400", "validation_error", "malformed_request", "body_too_deep")
                responses.setdefault("413", _problem("Error codes: `payload_too_large`"))
                responses.setdefault("415", _problem("Error codes: `unsupported_media_type`"))
            if any(p.get("in") == "query" and p.get("name") == "cursor" for p in operation.get("parameters", [])):
                _declare(responses, "400", "invalid_cursor")  # api/pagination.py
            # Any operation can meet a lost database connection or a statement timeout (api/errors.py):
            # rolled back, nothing saved, retry after Retry-After.
            _declare(responses, "503", "database_unavailable", "database_timeout")
            # Any write can wait for a row lock, never longer than the lock timeout (core/locks.py):
            # rolled back, nothing saved, retry after Retry-After.
            if method != "get":
                _declare(responses, "409", "lock_timeout")
    return result


def _declare(responses: dict, status: str, *codes: str) -> None:
    """Make sure the status's response lists these codes, keeping the ones a view declared."""
    if status not in responses:
        responses[status] = _problem("Error codes: " + ", ".join(f"`{code}`" for code in codes))
        return
    response = responses[status]
    missing = [f"`{code}`" for code in codes if f"`{code}`" not in response.get("description", "")]
    if missing:
        response["description"] = response.get("description", "Error codes:").rstrip() + ", " + ", ".join(missing)


# --- What client generators and linters need ------------------------------------------
# Spectral's `spectral:oas` ruleset validates every example against its schema, and client
# generators read the schema literally. These fix what drf-spectacular and DRF emit that is
# not quite valid OpenAPI 3.0, in one place rather than in every view.

# DRF's CursorPagination documents `next` with a stray quote, which is not a URI.
_BAD_CURSOR_EXAMPLE = 'http://api.example.org/accounts/?cursor=cD00ODY%3D"'
_GOOD_CURSOR_EXAMPLE = "http://api.example.org/accounts/?cursor=cD00ODY%3D"
# Only null: how OpenAPI 3.0 says "or null" next to a $ref (`nullable` needs a `type` beside it).
NULL_ONLY = {"type": "object", "nullable": True, "enum": [None]}
# Times of day are the school's wall clock (a cut-off at 08:30 stays 08:30 across daylight saving):
# DRF accepts "08:15" and "08:15:00" and answers "08:15:00", but RFC 3339's `time` format (OpenAPI,
# JSON Schema) requires a UTC offset, which a wall-clock time does not have.
WALL_CLOCK_TIME = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?$"
WALL_CLOCK_DESCRIPTION = "A wall-clock time of day in the school's time zone, `HH:MM` or `HH:MM:SS`, without a UTC offset."


def clean_for_generators(result, generator, request, public):
    _walk(result)
    schemas = result.get("components", {}).get("schemas", {})
    for schema in schemas.values():
        for field in schema.get("properties", {}).values():
            if field.get("format") == "time":  # every TimeField, in requests and in answers
                del field["format"]
                field["pattern"] = WALL_CLOCK_TIME
                field.setdefault("description", WALL_CLOCK_DESCRIPTION)
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            _declare_downloads_binary(operation)
            parts = [operation.get("requestBody", {}), *operation.get("responses", {}).values()]
            for content in (c for part in parts for c in part.get("content", {}).values()):
                schema = _resolve(content.get("schema", {}), schemas)
                for example in content.get("examples", {}).values():
                    if "value" in example:
                        example["value"] = _unwrap_listed(example["value"], schema, schemas)
    return result


# What the API sends as a download (api/views: QR images, PDFs, CSV exports). A client saves the
# bytes; declared as a plain string, generators would decode CSV as text and some not at all.
BINARY = {"type": "string", "format": "binary"}


def _declare_downloads_binary(operation: dict) -> None:
    for status, response in operation.get("responses", {}).items():
        if not status.startswith("2"):
            continue
        for media_type, content in response.get("content", {}).items():
            if media_type != "application/json" and not media_type.endswith("+json"):
                content["schema"] = dict(BINARY)


def _walk(node):
    if isinstance(node, dict):
        if node.get("nullable") is True and "type" not in node:
            refs = node.get("allOf", [])
            del node["nullable"]
            if len(refs) == 1 and "$ref" in refs[0]:
                del node["allOf"]
                node["oneOf"] = [refs[0], dict(NULL_ONLY)]
            # Without a type any value is allowed, null included: `nullable` alone said nothing.
        default = node.get("default")
        if isinstance(default, str) and not _string_allows(node, default):
            del node["default"]  # a default the field itself refuses (DRF's blank default); clients omit it
        for key, value in node.items():
            if value == _BAD_CURSOR_EXAMPLE:
                node[key] = _GOOD_CURSOR_EXAMPLE
            else:
                _walk(value)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if value == _BAD_CURSOR_EXAMPLE:
                node[index] = _GOOD_CURSOR_EXAMPLE
            else:
                _walk(value)


def _string_allows(schema: dict, value: str) -> bool:
    if len(value) < schema.get("minLength", 0):
        return False
    return "pattern" not in schema or re.search(schema["pattern"], value) is not None


def _resolve(schema: dict, schemas: dict) -> dict:
    ref = schema.get("$ref", "")
    return schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else schema


def _unwrap_listed(value, schema: dict, schemas: dict):
    """drf-spectacular wraps a list response's example in a list; views that already give a list get two."""
    if schema.get("type") == "array":
        items = _resolve(schema.get("items", {}), schemas)
        if items.get("type") != "array" and isinstance(value, list) and value and all(isinstance(v, list) for v in value):
            return [item for inner in value for item in inner]
        return value
    results = schema.get("properties", {}).get("results")
    if results and isinstance(value, dict) and "results" in value:
        value["results"] = _unwrap_listed(value["results"], results, schemas)
    return value
