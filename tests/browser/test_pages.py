"""Django serves the committed apps: /terminal/ and /app/ (and any path under them: the SPA
fallback) answer with their built shell, the PWA's headers and a web manifest; the assets come
from WhiteNoise; the built files hold no secret."""

import json
import re

import pytest

from tests.browser import tools

SHELLS = {"terminal": "Tuckbox terminal", "app": "Tuckbox"}


@pytest.mark.parametrize("slug", SHELLS)
@pytest.mark.parametrize("path", ["", "vouchers/42", "deep/link/?x=1"])
def test_every_path_under_an_app_answers_with_its_shell(client, slug, path):
    response = client.get(f"/{slug}/{path}")

    assert response.status_code == 200 and response["Content-Type"] == "text/html; charset=utf-8"
    assert response.content == (tools.BUILT / slug / "index.html").read_bytes()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "connect-src 'self'" in csp
    assert response["Permissions-Policy"].startswith("camera=(self)" if slug == "terminal" else "camera=()")
    assert response["Cache-Control"] == "no-cache" and response["X-Content-Type-Options"] == "nosniff"


def test_an_app_without_its_slash_is_redirected_and_others_are_not_apps(client):
    assert client.get("/terminal")["Location"] == "/terminal/"
    assert client.get("/shop/").status_code == 404
    assert client.post("/app/").status_code == 405


@pytest.mark.parametrize("slug", SHELLS)
def test_each_app_has_a_web_manifest_scoped_to_it(client, slug):
    response = client.get(f"/{slug}/manifest.webmanifest")

    assert response.status_code == 200 and response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert (manifest["name"], manifest["start_url"], manifest["scope"], manifest["display"]) == (SHELLS[slug], f"/{slug}/", f"/{slug}/", "standalone")
    assert client.get(manifest["icons"][0]["src"]).status_code == 200


@pytest.mark.parametrize("slug", SHELLS)
def test_the_shells_assets_are_served(client, slug):
    html = (tools.BUILT / slug / "index.html").read_text()
    assets = re.findall(r'(?:src|href)="(/static/web/assets/[^"]+)"', html)

    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        b"".join(response.streaming_content)


def test_the_built_apps_hold_no_secret():
    text = "\n".join(path.read_text(errors="replace") for path in tools.BUILT.rglob("*") if path.is_file())

    for secret in ("tbx_term_", "sk_test_", "sk_live_", "whsec_", "BEGIN PRIVATE KEY", "tuckbox-demo-2026"):
        assert secret not in text, secret
