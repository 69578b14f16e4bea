"""Where an audited action came from: the request being served, if any.

`AuditContextMiddleware` (right after the request-id middleware) opens a context for each
request; `audit_record` reads it for the request id, IP and user agent, and for the principal
when the service does not name one. DRF sets the authenticated user on the underlying Django
request too, so the principal is known by the time a view calls a service.
"""

import ipaddress
from contextvars import ContextVar
from dataclasses import dataclass, field

import structlog
from django.db import DatabaseError

USER_AGENT_LENGTH = 300
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

log = structlog.get_logger("audit")


@dataclass
class RequestContext:
    request: object
    request_id: str
    ip_address: str | None
    user_agent: str
    recorded: int = 0
    # Django admin: the rows as they were before the admin saved them, by (model label, pk).
    admin_before: dict = field(default_factory=dict)

    @property
    def principal(self):
        return getattr(self.request, "user", None)

    @property
    def is_admin_site(self) -> bool:
        match = getattr(self.request, "resolver_match", None)
        return match is not None and match.app_name == "admin"


_current: ContextVar[RequestContext | None] = ContextVar("audit_request", default=None)


def current() -> RequestContext | None:
    return _current.get()


def client_ip(request) -> str | None:
    """REMOTE_ADDR: the peer address Django received. X-Forwarded-For is not read: the project
    configures no trusted proxy hop count, and a header the client wrote proves nothing."""
    raw = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context = RequestContext(
            request=request,
            request_id=getattr(request, "request_id", ""),
            ip_address=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:USER_AGENT_LENGTH],
        )
        token = _current.set(context)
        try:
            response = self.get_response(request)
            if _needs_request_capture(context, request, response):
                _record_request(context, request, response)
        finally:
            _current.reset(token)
        return response


def _needs_request_capture(context: RequestContext, request, response) -> bool:
    return (
        request.method in UNSAFE_METHODS
        and 200 <= response.status_code < 300
        and context.recorded == 0
        and request.path.startswith("/api/")
        and response.get("Idempotent-Replayed") != "true"  # the first answer was recorded
    )


def _record_request(context: RequestContext, request, response) -> None:
    """A staff or administrator write that no service recorded still leaves a row: which
    operation, on which object of the path, by whom. It runs after the view's transaction has
    committed, so a failure here cannot undo the change; it is logged as an error instead."""
    from audit.actors import actor_for_user
    from audit.models import Capture
    from audit.services import audit_record

    if getattr(context.principal, "is_terminal", False):
        return  # a terminal's sales are its everyday business; its refunds and voids record themselves
    actor = actor_for_user(context.principal)
    if actor is None:  # anonymous, or a guardian acting for their own family
        return
    match = request.resolver_match
    kwargs = dict(match.kwargs) if match else {}
    kwargs.pop("token", None)  # a signed link is a credential
    object_type, object_id = _path_object(kwargs)
    try:
        audit_record(
            action=f"{request.method.lower()} {match.url_name if match else request.path}",
            object_type=object_type,
            object_id=object_id,
            details={"path_parameters": kwargs, "status": response.status_code},
            capture=Capture.REQUEST,
        )
    except DatabaseError:
        log.exception("audit_request_capture_failed", path=request.path)


def _path_object(kwargs: dict) -> tuple[str, str]:
    """The last path parameter names the object (`/events/{event_id}/cancel`: event 12)."""
    if not kwargs:
        return "", ""
    name, value = list(kwargs.items())[-1]
    return name.removesuffix("_id"), str(value)
