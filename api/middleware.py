"""Request id, body-size limit, access log and a last-resort problem+json 500."""

import re
import time
import uuid

import structlog
from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpResponse
from django.http.multipartparser import MultiPartParserError

from api.errors import DATABASE_ERRORS, database_error_http_response, problem_http_response

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTABLE_INBOUND_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Exceptions Django itself answers with a 4xx (see django.core.handlers.exception).
_CLIENT_ERRORS = (Http404, PermissionDenied, BadRequest, SuspiciousOperation, MultiPartParserError)

log = structlog.get_logger("api.request")


def _problem(status: int, code: str, title: str, detail: str) -> HttpResponse:
    return problem_http_response(status_code=status, code=code, title=title, detail=detail)


class RequestIdMiddleware:
    """Gives every request an id (a sane inbound X-Request-ID is kept), binds it to
    every log line, echoes it in the response, and logs one access line.

    It also refuses oversized bodies up front: DRF reads the raw stream, which
    bypasses Django's DATA_UPLOAD_MAX_MEMORY_SIZE check.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        inbound = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = inbound if _ACCEPTABLE_INBOUND_ID.match(inbound) else uuid.uuid4().hex
        request.request_id = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()

        response = self._too_large(request) or self.get_response(request)

        response[REQUEST_ID_HEADER] = request_id
        if settings.ACCESS_LOG:
            log.info(
            "request",
                method=request.method,
                path=request.path,
                status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, _CLIENT_ERRORS):
            return None  # not a failure of ours: Django's handlers answer 404, 403 or 400
        if isinstance(exception, DATABASE_ERRORS):
            return database_error_http_response(exception)
        log.exception("unhandled_exception", path=request.path)
        return _problem(500, "internal_error", "Internal error", "Something went wrong on our side; it has been logged.")

    @staticmethod
    def _too_large(request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _problem(400, "malformed_request", "Malformed request", "Content-Length is not a number.")
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return _problem(413, "payload_too_large", "Payload too large", "The request body is too large.")
        return None
