"""Django's 404 and 500 handlers: problem+json under /api/, Django's own pages elsewhere (admin)."""

from django.views import defaults

from api.errors import problem_http_response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


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
