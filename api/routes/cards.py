from django.urls import path

from api.views import card_acceptance, cards

urlpatterns = [
    path("students/<int:student_id>/cards", cards.CardIssueView.as_view(), name="card-issue"),
    path("students/<int:student_id>/card/fund", cards.CardFundView.as_view(), name="card-fund"),
    path("students/<int:student_id>/card/withdraw", cards.CardWithdrawView.as_view(), name="card-withdraw"),
    path("students/<int:student_id>/card/controls", cards.SpendingControlsView.as_view(), name="card-controls"),
    path("students/<int:student_id>/card/freeze", cards.CardFreezeView.as_view(), name="card-freeze"),
    path("students/<int:student_id>/card/unfreeze", cards.CardUnfreezeView.as_view(), name="card-unfreeze"),
    path("students/<int:student_id>/card/report-lost", cards.CardReportLostView.as_view(), name="card-report-lost"),
    path("card-merchants", card_acceptance.CardAcceptanceListView.as_view(), name="card-merchant-list"),
    path("card-merchants/<int:merchant_id>", card_acceptance.CardAcceptanceDetailView.as_view(), name="card-merchant-detail"),
    path("terminal/charges", cards.TerminalChargeView.as_view(), name="terminal-charges"),
    path("terminal/charges/<int:charge_id>/refunds", cards.TerminalRefundView.as_view(), name="terminal-charge-refunds"),
    path("terminal/balance", cards.TerminalBalanceView.as_view(), name="terminal-balance"),
]
