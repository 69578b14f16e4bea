from django.urls import path

from api.views import audit

urlpatterns = [
    path("audit-log", audit.AuditLogListView.as_view(), name="audit-log"),
    path("audit-log/<int:entry_id>", audit.AuditLogDetailView.as_view(), name="audit-log-entry"),
]
