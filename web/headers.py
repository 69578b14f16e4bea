"""The security headers of the apps' pages. Everything is same-origin: scripts and styles are
Vite's built files (no inline code, so no 'unsafe-inline'), the API is on this host, QR images
and the camera preview are blob:/mediastream: URLs the page makes itself."""

from web.shells import Shell

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def page_headers(shell: Shell) -> dict[str, str]:
    camera = "camera=(self)" if shell.camera else "camera=()"
    return {
        "Content-Security-Policy": CSP,
        "Permissions-Policy": f"{camera}, microphone=(), geolocation=(), payment=()",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        # The shell names hashed asset files: a stale one would load assets a deploy removed.
        "Cache-Control": "no-cache",
    }
