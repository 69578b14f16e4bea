from django.urls import path

from api.views import vouchers_admin as admin
from api.views import vouchers_holder as holder
from api.views import vouchers_programs as programs
from api.views import vouchers_terminal as terminal

PROGRAM = "voucher-programs/<int:program_id>"
PROVIDER = f"{PROGRAM}/providers/<int:approval_id>"

urlpatterns = [
    # Programs and their administration
    path("voucher-programs", programs.VoucherProgramListView.as_view(), name="voucher-programs"),
    path(PROGRAM, programs.VoucherProgramDetailView.as_view(), name="voucher-program-detail"),
    path(f"{PROGRAM}/applications", programs.VoucherApplicationView.as_view(), name="voucher-program-applications"),
    path(f"{PROGRAM}/vouchers", programs.ProgramVoucherListView.as_view(), name="voucher-program-vouchers"),
    path(f"{PROGRAM}/vouchers/<int:voucher_id>/revoke", programs.VoucherRevokeView.as_view(), name="voucher-revoke"),
    path(f"{PROGRAM}/vouchers/<int:voucher_id>/cancel", programs.VoucherCancelView.as_view(), name="voucher-cancel"),
    path(f"{PROGRAM}/bulk-issues", programs.VoucherBulkIssueView.as_view(), name="voucher-bulk-issues"),
    path("voucher-bulk-issues/<int:job_id>", programs.VoucherBulkIssueDetailView.as_view(), name="voucher-bulk-issue-detail"),
    path("voucher-attestations", programs.VoucherAttestationView.as_view(), name="voucher-attestations"),
    path(f"{PROGRAM}/providers", admin.ProgramProviderListView.as_view(), name="voucher-program-providers"),
    path(f"{PROVIDER}/approve", admin.ProviderApproveView.as_view(), name="voucher-provider-approve"),
    path(f"{PROVIDER}/reject", admin.ProviderRejectView.as_view(), name="voucher-provider-reject"),
    path(f"{PROVIDER}/suspend", admin.ProviderSuspendView.as_view(), name="voucher-provider-suspend"),
    path(f"{PROVIDER}/reinstate", admin.ProviderReinstateView.as_view(), name="voucher-provider-reinstate"),
    path("voucher-reports/uptake", admin.VoucherUptakeView.as_view(), name="voucher-uptake"),
    path("voucher-reports/uptake.csv", admin.VoucherUptakeCsvView.as_view(), name="voucher-uptake-csv"),
    # Holders
    path("vouchers", holder.VoucherListView.as_view(), name="vouchers"),
    path("vouchers/<int:voucher_id>", holder.VoucherDetailView.as_view(), name="voucher-detail"),
    path("vouchers/<int:voucher_id>/code", holder.VoucherCodeView.as_view(), name="voucher-code"),
    path("vouchers/<int:voucher_id>/qr.png", holder.VoucherQrPngView.as_view(), name="voucher-qr-png"),
    path("vouchers/<int:voucher_id>/qr.svg", holder.VoucherQrSvgView.as_view(), name="voucher-qr-svg"),
    path("voucher-keys", holder.VoucherKeysView.as_view(), name="voucher-keys"),
    # Terminals
    path("terminal/vouchers/preview", terminal.VoucherPreviewView.as_view(), name="terminal-voucher-preview"),
    path("terminal/voucher-redemptions", terminal.VoucherRedemptionListView.as_view(), name="terminal-voucher-redemptions"),
    path(
        "terminal/voucher-redemptions/<int:redemption_id>/void",
        terminal.VoucherRedemptionVoidView.as_view(),
        name="terminal-voucher-redemption-void",
    ),
    path("terminal/voucher-provider-applications", terminal.VoucherProviderApplicationView.as_view(), name="terminal-voucher-provider-applications"),
    path("terminal/voucher-settlements", terminal.VoucherSettlementListView.as_view(), name="terminal-voucher-settlements"),
    path("terminal/voucher-settlements/<int:settlement_id>", terminal.VoucherSettlementDetailView.as_view(), name="terminal-voucher-settlement-detail"),
    path(
        "terminal/voucher-settlements/<int:settlement_id>/statement.csv",
        terminal.VoucherSettlementStatementView.as_view(),
        name="terminal-voucher-settlement-statement",
    ),
    path("terminal/voucher-balance", terminal.VoucherMerchantBalanceView.as_view(), name="terminal-voucher-balance"),
]
