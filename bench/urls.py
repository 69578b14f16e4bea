from django.urls import path

from bench.views import BaselineView

urlpatterns = [path("baseline", BaselineView.as_view(), name="bench-baseline")]
