from django.urls import path

from api.views import reconciliation, statements

urlpatterns = [
    path("wallet", statements.WalletView.as_view(), name="wallet"),
    path("wallet/statement", statements.WalletStatementView.as_view(), name="wallet-statement"),
    path("wallet/statement.csv", statements.WalletStatementCsvView.as_view(), name="wallet-statement-csv"),
    path("students/<int:student_id>/card", statements.StudentCardView.as_view(), name="student-card"),
    path("students/<int:student_id>/card/statement", statements.StudentCardStatementView.as_view(), name="student-card-statement"),
    path(
        "students/<int:student_id>/card/statement.csv",
        statements.StudentCardStatementCsvView.as_view(),
        name="student-card-statement-csv",
    ),
    path("reconciliation/issues", reconciliation.ReconciliationIssueListView.as_view(), name="reconciliation-issues"),
    path("reconciliation/runs", reconciliation.ReconciliationRunView.as_view(), name="reconciliation-runs"),
]
