from django.urls import path

from api.views import leavers

urlpatterns = [
    path("students/<int:student_id>/leaver", leavers.StudentLeaverView.as_view(), name="student-leaver"),
]
