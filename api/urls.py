from django.urls import include, path

from api.views import auth, guardians

urlpatterns = [
    path("auth/token", auth.SignInView.as_view(), name="auth-token"),
    path("auth/token/refresh", auth.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", auth.LogoutView.as_view(), name="auth-logout"),
    path("auth/password", auth.PasswordChangeView.as_view(), name="auth-password"),
    path("guardians", guardians.GuardianRegisterView.as_view(), name="guardian-register"),
    path("me", guardians.MeView.as_view(), name="me"),
    path("schools/<int:school_id>", guardians.SchoolDetailView.as_view(), name="school-detail"),
    path("students", guardians.StudentListView.as_view(), name="student-list"),
    path("students/<int:student_id>", guardians.StudentDetailView.as_view(), name="student-detail"),
    path("students/<int:student_id>/link-codes", guardians.LinkCodeIssueView.as_view(), name="student-link-codes"),
    path("students/<int:student_id>/invites", guardians.GuardianInviteView.as_view(), name="student-invites"),
    path("students/<int:student_id>/guardians", guardians.StudentGuardianListView.as_view(), name="student-guardians"),
    path("links", guardians.LinkListView.as_view(), name="link-list"),
    path("links/<int:link_id>", guardians.LinkDetailView.as_view(), name="link-detail"),
    path("terminal", guardians.TerminalMeView.as_view(), name="terminal-me"),
    # One route module per domain, so each stays short and owned by one part of the API.
    path("", include("api.routes.cards")),
    path("", include("api.routes.payments")),
    path("", include("api.routes.statements")),
    path("", include("api.routes.vouchers")),
    path("", include("api.routes.settlements")),
    path("", include("api.routes.canteen")),
    path("", include("api.routes.events")),
    path("", include("api.routes.webhooks")),
    path("", include("api.routes.audit")),
    path("", include("api.routes.leavers")),
    path("", include("api.routes.terminals")),
]
