"""The browsable API documentation pages (Swagger UI and Redoc)."""

from django.views import View
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView


class _HtmlPage:
    def options(self, request, *args, **kwargs):
        # An HTML page has no metadata: DRF's would be rendered through the page's template (a 500).
        return View.options(self, request, *args, **kwargs)


class SwaggerPage(_HtmlPage, SpectacularSwaggerView):
    pass


class RedocPage(_HtmlPage, SpectacularRedocView):
    pass
