from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from api.metrics import metrics_view
from api.views.docs import RedocPage, SwaggerPage
from api.views.health import healthz

urlpatterns = [
    path("api/v1/", include("api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerPage.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocPage.as_view(url_name="schema"), name="redoc"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    # The reference apps (web/): the merchant terminal at /terminal/, the guardian app at /app/.
    path("", include("web.urls")),
]

# The benchmark's baseline endpoint exists only under config.settings_bench (`make bench`).
if getattr(settings, "BENCH_ENABLED", False):
    urlpatterns.append(path("bench/", include("bench.urls")))

handler400 = "api.views.errors.bad_request"
handler404 = "api.views.errors.not_found"
handler500 = "api.views.errors.server_error"
