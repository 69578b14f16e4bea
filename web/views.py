"""The apps' shell pages and manifests. Any path under an app's prefix answers with its
index.html (the SPA fallback), so a reload on a deep link still opens the app."""

from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from web.headers import page_headers
from web.shells import SHELLS, index_html


def _shell(slug: str):
    shell = SHELLS.get(slug)
    if shell is None:
        raise Http404
    return shell


@require_safe
def app_page(request, slug: str, rest: str = ""):
    shell = _shell(slug)
    response = HttpResponse(index_html(slug), content_type="text/html; charset=utf-8")
    for name, value in page_headers(shell).items():
        response[name] = value
    return response


@require_safe
def app_manifest(request, slug: str):
    shell = _shell(slug)
    response = JsonResponse(shell.manifest(), content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response
