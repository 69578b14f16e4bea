"""HTTP side of the metrics (core/metrics.py): the request middleware and the guarded `/metrics` view.

Requests are labelled by the URL route's name (`terminal-charges`), never the raw path, so the
number of series stays bounded; a request that matched no route is `unmatched`. The money
decisions are read off the answer the one exception handler already gave: accepted on 2xx,
declined with the problem body's stable `code` on 4xx, error on 5xx. A replayed idempotent
answer is not a new decision and is not counted again.
"""

import hmac
import ipaddress
import time

from django.conf import settings
from django.http import HttpResponse
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from api.errors import problem_http_response
from core import metrics

# (method, route name) -> the decision it makes. Route names are in api/routes/ and api/urls.py.
MONEY_DECISIONS = {
    ("POST", "terminal-charges"): "card_charge",
    ("POST", "terminal-voucher-redemptions"): "voucher_redeem",
    ("POST", "student-orders"): "order_place",
    ("POST", "card-fund"): "card_fund",
    ("POST", "topup-list"): "topup",
}
UNMATCHED = "unmatched"
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class MetricsMiddleware:
    """Times every request and counts it; counts the money decisions. Never changes the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        route = _route_of(request)
        method = request.method if request.method in _METHODS else "OTHER"
        metrics.request_observe(route=route, method=method, status_code=response.status_code, seconds=time.perf_counter() - started)
        decision = MONEY_DECISIONS.get((method, route))
        if decision and not response.has_header("Idempotent-Replayed"):
            outcome, code = _outcome(response)
            metrics.money_decision_observe(decision=decision, outcome=outcome, code=code)
        return response


def _route_of(request) -> str:
    match = getattr(request, "resolver_match", None)
    # view_name: the route's (namespaced) name, or the view's dotted path for a route without one.
    return match.view_name if match is not None else UNMATCHED


def _outcome(response) -> tuple[str, str]:
    if response.status_code < 400:
        return "accepted", ""
    data = getattr(response, "data", None)  # DRF's Response keeps the problem body it rendered
    code = data.get("code") if isinstance(data, dict) else None
    return ("error" if response.status_code >= 500 else "declined"), str(code or f"http_{response.status_code}")


def metrics_view(request):
    """Prometheus text exposition, for allowed networks or a bearer token (docs/operations.md, Metrics)."""
    if not metrics_caller_allowed(request):
        return problem_http_response(
            status_code=403, code="permission_denied", title="Forbidden", detail="Metrics are served to the monitoring network only."
        )
    return HttpResponse(metrics.metrics_exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)


def metrics_caller_allowed(request) -> bool:
    """A configured bearer token, or a direct connection from METRICS_ALLOWED_NETWORKS.

    A request that came through a proxy (it carries X-Forwarded-For or Forwarded) is judged as
    public whatever its socket address: the proxy on loopback would otherwise let the world in.
    """
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return any(hmac.compare_digest(token.encode(), allowed.encode()) for allowed in settings.METRICS_BEARER_TOKENS)
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(network, strict=False) for network in settings.METRICS_ALLOWED_NETWORKS)
