"""The one place errors become HTTP: every error is application/problem+json (RFC 9457).

Body: `type`, `title`, `status`, `detail`, a stable snake_case `code`, and for
validation failures an `errors` list of `{field, code, message}`.
"""

import json

import psycopg.errors
import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from core.errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    PaymentRefusedError,
)
from guardians.errors import SessionRevoked

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://tuckbox.dev/problems/"

log = structlog.get_logger("api.errors")

# Domain error kinds to HTTP statuses. Anything else that is a DomainError is 422.
DOMAIN_STATUS = (
    (SessionRevoked, status.HTTP_401_UNAUTHORIZED),
    (NotFoundError, status.HTTP_404_NOT_FOUND),
    (ConflictError, status.HTTP_409_CONFLICT),
    (ForbiddenError, status.HTTP_403_FORBIDDEN),
    (PaymentRefusedError, status.HTTP_402_PAYMENT_REQUIRED),
    (InvalidInputError, status.HTTP_400_BAD_REQUEST),
)

# DRF's own codes are kept, except where a plainer name serves clients better.
RENAMED_DRF_CODES = {"parse_error": "malformed_request", "invalid": "validation_error"}

# Every code the HTTP layer answers with itself (domain codes live in each app's errors.py):
# (status, code, meaning). The one place they are declared: scripts/error_codes.py prints them in
# docs/api.md, and tests/foundation/test_openapi.py fails on a code raised anywhere but not here.
HTTP_CODES = (
    (400, "validation_error", "A field is missing or invalid; `errors` lists `{field, code, message}`."),
    (400, "phone_invalid", "A field code in `validation_error`'s `errors`: not a valid phone number (Australian, or any with +country code)."),
    (400, "postcode_invalid", "A field code in `validation_error`'s `errors`: not an Australian postcode (0200-0299, 0800-9999)."),
    (400, "malformed_request", "The body is not valid JSON, or holds a number or a string we cannot store (see above)."),
    (400, "body_too_deep", "The body nests arrays and objects more than 32 levels deep."),
    (400, "invalid_cursor", "The `cursor` is not one a page of this list gave out; start again without it."),
    (400, "idempotency_key_required", "A money-moving POST came without an `Idempotency-Key`."),
    (400, "idempotency_key_invalid", "The key is not 1 to 255 visible ASCII characters."),
    (401, "not_authenticated", "No credentials were sent."),
    (401, "authentication_failed", "The credentials were not accepted."),
    (401, "invalid_credentials", "Sign-in: the email or password is wrong."),
    (401, "token_invalid", "The access or refresh token is malformed, tampered with or expired."),
    (401, "terminal_key_invalid", "The `X-Terminal-Key` is unknown or revoked."),
    (403, "permission_denied", "This kind of caller may not use the operation."),
    (404, "not_found", "No such object, or not one the caller may see."),
    (405, "method_not_allowed", "The path exists but not with this method."),
    (406, "not_acceptable", "The `Accept` header asks for a type the operation cannot send."),
    (409, "idempotency_request_in_progress", "The first request with this key is still running; retry after `Retry-After`."),
    (409, "lock_timeout", "Another request held a row this one must lock for longer than the lock timeout; nothing was saved. Retry after `Retry-After` with the same key."),
    (409, "terminal_key_already_shown", "A replay of a request that issued a terminal key: the key was shown only in the first answer; rotate it if lost."),
    (413, "payload_too_large", "The body is larger than the server accepts (1 MiB)."),
    (415, "unsupported_media_type", "Send `Content-Type: application/json`."),
    (422, "idempotency_key_reused", "The key was used before with a different request."),
    (429, "throttled", "Too many attempts; retry after `Retry-After` seconds."),
    (429, "voucher_lookup_throttled", "Too many failed voucher look-ups from this terminal; retry after `Retry-After` seconds."),
    (500, "internal_error", "Our fault; the `X-Request-ID` helps us find it."),
    (503, "database_unavailable", "The database could not be reached; nothing was saved. Retry after `Retry-After`."),
    (503, "database_timeout", "The request ran out of time in the database and was rolled back. Retry after `Retry-After`."),
    (503, "payment_gateway_unavailable", "Stripe could not be reached; nothing was charged. Retry with the same key."),
)
# Domain codes the API answers with another status than their kind's (api/views/payments.py):
# Stripe's webhook is refused with 400. (`payment_gateway_unavailable` is a 503 on top-ups and saved
# cards, which turn it into one, and keeps its kind's 422 elsewhere: both rows are in docs/api.md.)
HTTP_STATUS_OF_DOMAIN_CODES = {"invalid_signature": 400, "invalid_event": 400}


class InvalidCredentials(exceptions.AuthenticationFailed):
    default_detail = "Email or password is wrong."
    default_code = "invalid_credentials"


class TokenInvalid(exceptions.AuthenticationFailed):
    default_detail = "The access or refresh token is invalid or expired."
    default_code = "token_invalid"


class SessionEnded(exceptions.AuthenticationFailed):
    default_detail = "This session has ended; sign in again."
    default_code = "session_revoked"


class TerminalKeyInvalid(exceptions.AuthenticationFailed):
    default_detail = "Unknown or revoked terminal key."
    default_code = "terminal_key_invalid"


class VoucherLookupThrottled(exceptions.Throttled):
    default_detail = "Too many failed voucher look-ups from this terminal; wait a minute."
    default_code = "voucher_lookup_throttled"


def problem_response(*, status_code: int, code: str, title: str, detail: str, headers=None, **extra) -> Response:
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status_code,
        "detail": detail,
        "code": code,
        **extra,
    }
    response = Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return response


def problem_http_response(*, status_code: int, code: str, title: str, detail: str) -> HttpResponse:
    """The same body for code outside DRF (middleware, Django's error handlers)."""
    body = {"type": PROBLEM_TYPE_BASE + code, "title": title, "status": status_code, "detail": detail, "code": code}
    return HttpResponse(json.dumps(body), status=status_code, content_type=PROBLEM_CONTENT_TYPE)


# A request the database could not finish: the transaction was rolled back, so retrying is safe.
DATABASE_RETRY_AFTER_SECONDS = 5
DATABASE_ERRORS = (OperationalError, InterfaceError)


def database_problem(exc: Exception) -> dict:
    """statement_timeout (57014) is `database_timeout`; a lost or refused connection is `database_unavailable`."""
    if isinstance(exc.__cause__, psycopg.errors.QueryCanceled):
        code, detail = "database_timeout", "The request ran out of time in the database and was rolled back; retry shortly."
    else:
        code, detail = "database_unavailable", "The database could not be reached and nothing was saved; retry shortly."
    log.error("database_error", code=code, error=f"{exc.__class__.__name__}: {exc}"[:300])
    return {"status_code": 503, "code": code, "title": _title_for(code), "detail": detail}


# A row lock not granted within the lock timeout (core/locks.py): another request holds it for now.
LOCK_RETRY_AFTER_SECONDS = 1


def lock_timeout_problem(exc: Exception) -> dict | None:
    """SQLSTATE 55P03 (lock_not_available) is 409 `lock_timeout`: the transaction was rolled back, retry."""
    if not isinstance(exc.__cause__, psycopg.errors.LockNotAvailable):
        return None
    log.warning("lock_timeout", error=f"{exc}"[:300])
    return {
        "status_code": 409,
        "code": "lock_timeout",
        "title": _title_for("lock_timeout"),
        "detail": "Another request is changing the same thing; nothing was saved. Retry shortly.",
    }


def database_error_response(exc: Exception) -> Response:
    locked = lock_timeout_problem(exc)
    if locked is not None:
        return problem_response(**locked, headers={"Retry-After": str(LOCK_RETRY_AFTER_SECONDS)})
    return problem_response(**database_problem(exc), headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})


def database_error_http_response(exc: Exception) -> HttpResponse:
    locked = lock_timeout_problem(exc)
    if locked is not None:
        response = problem_http_response(**locked)
        response["Retry-After"] = str(LOCK_RETRY_AFTER_SECONDS)
        return response
    response = problem_http_response(**database_problem(exc))
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def domain_error_response(error: DomainError) -> Response:
    status_code = next((code for kind, code in DOMAIN_STATUS if isinstance(error, kind)), 422)
    # A 401 must tell the client how to authenticate (RFC 9110).
    headers = {"WWW-Authenticate": 'Bearer realm="api"'} if status_code == status.HTTP_401_UNAUTHORIZED else None
    return problem_response(
        status_code=status_code,
        code=error.code,
        title=_title_for(error.code),
        detail=error.message,
        headers=headers,
        **({"details": error.details} if error.details else {}),
    )


def problem_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, DATABASE_ERRORS):
        return database_error_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return problem_response(
            status_code=413, code="payload_too_large", title="Payload too large", detail="The request body is too large."
        )
    if isinstance(exc, exceptions.ValidationError):
        return problem_response(
            status_code=400,
            code="validation_error",
            title="Validation error",
            detail="The request has invalid fields.",
            errors=list(_flatten_validation(exc.detail)),
        )
    if isinstance(exc, exceptions.APIException):
        raw_code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        code = RENAMED_DRF_CODES.get(raw_code, raw_code)
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait) + 1)
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return problem_response(
            status_code=exc.status_code, code=code, title=_title_for(code), detail=detail, headers=headers
        )
    return None  # Unexpected: let Django's 500 handling (and our middleware's problem body) take it.


def _flatten_validation(detail, prefix=""):
    """Turn DRF's nested error dict into a flat list of {field, code, message}."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # list items report their index
                field = f"{prefix}[{key}]"
            else:
                field = key if not prefix else f"{prefix}.{key}"
            if key == "non_field_errors":
                field = prefix or None
            yield from _flatten_validation(value, field)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                yield from _flatten_validation(value, f"{prefix}[{index}]" if prefix else str(index))
            else:
                yield from _flatten_validation(value, prefix)
    else:
        yield {"field": prefix or None, "code": getattr(detail, "code", "invalid"), "message": str(detail)}


def _title_for(code: str) -> str:
    return code.replace("_", " ").capitalize()
