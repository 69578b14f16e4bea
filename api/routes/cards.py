from django.urls import path

from api.views import cards

urlpatterns = [
    path("students/<int:student_id>/cards", cards.CardIssueView.as_view(), name="card-issue"),
    path("students/<int:student_id>/card/fund", cards.CardFundView.as_view(), name="card-fund"),
    path("students/<int:student_id>/card/withdraw", cards.CardWithdrawView.as_view(), name="card-withdraw"),
    path("students/<int:student_id>/card/controls", cards.SpendingControlsView.as_view(), name="card-controls"),
    path("students/<int:student_id>/card/freeze", cards.CardFreezeView.as_view(), name="card-freeze"),
    path("students/<int:student_id>/card/unfreeze", cards.CardUnfreezeView.as_view(), name="card-unfreeze"),
    path("students/<int:student_id>/card/report-lost", cards.CardReportLostView.as_view(), name="card-report-lost"),
    path("terminal/charges", cards.TerminalChargeView.as_view(), name="terminal-charges"),
    path("terminal/charges/<int:charge_id>/refunds", cards.TerminalRefundView.as_view(), name="terminal-charge-refunds"),
    path("terminal/balance", cards.TerminalBalanceView.as_view(), name="terminal-balance"),
]
