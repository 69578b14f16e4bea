"""Django's 400, 404 and 500 handlers: problem+json under /api/, Django's own pages elsewhere (admin)."""

from django.core.exceptions import RequestDataTooBig
from django.views import defaults

from api.errors import problem_http_response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception):
    """What Django refuses before or outside DRF: a suspicious request, too many fields, too large a body."""
    if isinstance(exception, RequestDataTooBig):
        return problem_http_response(
            status_code=413, code="payload_too_large", title="Payload too large", detail="The request body is too large."
        )
    if _is_api(request):
        return problem_http_response(
            status_code=400, code="malformed_request", title="Malformed request", detail="The request cannot be read."
        )
    return defaults.bad_request(request, exception)


def not_found(request, exception):
    if _is_api(request):
        return problem_http_response(status_code=404, code="not_found", title="Not found", detail="Not found.")
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return problem_http_response(
            status_code=500,
            code="internal_error",
            title="Internal error",
            detail="Something went wrong on our side; it has been logged.",
        )
    return defaults.server_error(request)
