from django.urls import path

from api.views import settlements

PROGRAM = "voucher-programs/<int:program_id>"
RUN = f"{PROGRAM}/settlement-runs/<int:run_id>"

urlpatterns = [
    path(f"{PROGRAM}/settlement-preview", settlements.SettlementPreviewView.as_view(), name="voucher-settlement-preview"),
    path(f"{PROGRAM}/settlement-runs", settlements.SettlementRunListView.as_view(), name="voucher-settlement-runs"),
    path(RUN, settlements.SettlementRunDetailView.as_view(), name="voucher-settlement-run-detail"),
    path(f"{RUN}/settlements.csv", settlements.SettlementRunCsvView.as_view(), name="voucher-settlement-run-csv"),
    path(
        f"{RUN}/remittances/<int:settlement_id>.pdf",
        settlements.SettlementRemittancePdfView.as_view(),
        name="voucher-settlement-remittance-pdf",
    ),
    path(
        "terminal/voucher-settlements/<int:settlement_id>/remittance.pdf",
        settlements.TerminalRemittancePdfView.as_view(),
        name="terminal-voucher-settlement-remittance-pdf",
    ),
]
