from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from api.views.health import healthz

urlpatterns = [
    path("api/v1/", include("api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

# The benchmark's baseline endpoint exists only under config.settings_bench (`make bench`).
if getattr(settings, "BENCH_ENABLED", False):
    urlpatterns.append(path("bench/", include("bench.urls")))

handler404 = "api.views.errors.not_found"
handler500 = "api.views.errors.server_error"
