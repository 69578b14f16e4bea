"""Django admin for vouchers: read-mostly. Issuing, redeeming, revoking and settling go through the
services (and the API), which lock, check and write the ledger; the admin only shows them."""

from django.contrib import admin

from vouchers.models import (
    AdultBeneficiary,
    Attestation,
    BulkIssueJob,
    IssueWindow,
    PayoutDestination,
    Program,
    ProviderApproval,
    Redemption,
    RedemptionLine,
    Settlement,
    Voucher,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class IssueWindowInline(admin.TabularInline):
    model = IssueWindow
    extra = 0
    fields = ["position", "name", "opens_month", "opens_day", "closes_month", "closes_day", "voucher_count", "categories", "expiry_rule", "expiry_date", "expiry_period"]


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "beneficiary_kind", "face_value", "use_rule", "is_active", "starts_on", "ends_on"]
    list_filter = ["beneficiary_kind", "use_rule", "is_active"]
    search_fields = ["name", "code"]
    # The funding account is opened by the service and never changes.
    readonly_fields = ["funding_account", "created_by", "created_at"]
    filter_horizontal = ["administrators", "eligible_schools"]
    inlines = [IssueWindowInline]

    def has_add_permission(self, request):
        return False  # programs are created through the API, which opens their funding account


@admin.register(Voucher)
class VoucherAdmin(ReadOnlyAdmin):
    list_display = ["number", "program", "holder", "student", "face_value", "remaining_value", "state", "expires_on"]
    list_filter = ["program", "state", "issue_source"]
    search_fields = ["number", "holder__email", "student__last_name"]
    list_select_related = ["program", "holder", "student"]
    exclude = ["totp_secret"]


class RedemptionLineInline(admin.TabularInline):
    model = RedemptionLine
    extra = 0
    fields = ["voucher", "amount", "forfeited_amount"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ["id", "program", "merchant", "amount", "category", "created_at", "voided_at", "settlement"]
    list_filter = ["program", "category"]
    search_fields = ["reference", "merchant__name"]
    list_select_related = ["program", "merchant", "settlement"]
    inlines = [RedemptionLineInline]


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = ["id", "merchant", "business_date", "amount", "status", "transfer_id", "paid_at"]
    list_filter = ["status"]
    search_fields = ["merchant__name", "transfer_id"]
    date_hierarchy = "business_date"


@admin.register(ProviderApproval)
class ProviderApprovalAdmin(ReadOnlyAdmin):
    list_display = ["merchant", "program", "status", "categories", "insurance_expires_on", "wwcc_expires_on", "expires_on"]
    list_filter = ["status", "program"]
    search_fields = ["merchant__name", "abn"]


@admin.register(Attestation)
class AttestationAdmin(ReadOnlyAdmin):
    list_display = ["kind", "student", "user", "source", "attested_by", "valid_from", "valid_until", "revoked_at"]
    list_filter = ["kind", "source"]
    raw_id_fields = ["student", "user", "attested_by"]


@admin.register(BulkIssueJob)
class BulkIssueJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "program", "status", "processed_rows", "total_rows", "issued_vouchers", "failed_rows", "created_at"]
    list_filter = ["status"]
    exclude = ["csv_text"]


admin.site.register(AdultBeneficiary, ReadOnlyAdmin)
admin.site.register(PayoutDestination, ReadOnlyAdmin)
