from django.urls import path, re_path

from web.views import app_manifest, app_page

urlpatterns = [
    path("<slug:slug>/manifest.webmanifest", app_manifest, name="web-manifest"),
    re_path(r"^(?P<slug>terminal|app)/(?P<rest>.*)$", app_page, name="web-app"),
]
