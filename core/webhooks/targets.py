"""Where deliveries may go. Guards against a subscription being used to reach our own network (SSRF).

A URL must be absolute http(s) without credentials; in production it must be https and
every address its host resolves to must be public. The addresses are checked when the
subscription is saved and again before every attempt (DNS may have changed), and
redirects are never followed. A residual risk remains: the host could resolve to another
address between our check and the connection (DNS rebinding); deployments that need more
should send webhooks through an egress proxy that enforces the same rule.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from core.webhooks.errors import WebhookUrlInvalid, WebhookUrlNotAllowed


def url_check(url: str, *, resolve: bool = True) -> None:
    """Raise WebhookUrlInvalid or WebhookUrlNotAllowed unless deliveries may go to `url`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlInvalid() from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise WebhookUrlInvalid()
    if settings.WEBHOOKS_REQUIRE_HTTPS and parts.scheme != "https":
        raise WebhookUrlNotAllowed("Webhook URLs must use https.")
    if settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS or not resolve:
        return
    for address in _addresses(parts.hostname, port or (443 if parts.scheme == "https" else 80)):
        if not address.is_global or address.is_multicast:
            raise WebhookUrlNotAllowed(f"{parts.hostname} resolves to a non-public address.")


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise WebhookUrlNotAllowed(f"{host} does not resolve.") from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        # An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 address it maps.
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        addresses.append(address)
    return addresses
