from django.contrib import admin
from django.db import transaction

from audit.actors import platform_actor
from audit.services import audit_record
from core import clock
from core.locks import lock_objects
from wallet import card_acceptance
from wallet.models import Account, CardAcceptance, Entry, LedgerTransaction, Merchant, ReconciliationIssue, Terminal


class TerminalInline(admin.TabularInline):
    model = Terminal
    extra = 0
    fields = ["label", "key_prefix", "created_at", "revoked_at", "last_used_at"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at"]
    can_delete = False


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "abn", "categories", "school", "is_active"]
    search_fields = ["name", "abn"]
    inlines = [TerminalInline]


@admin.register(CardAcceptance)
class CardAcceptanceAdmin(admin.ModelAdmin):
    """Which merchants may charge which school's cards. Rows are history: enable adds one, disable stamps it."""

    list_display = ["school", "merchant", "enabled_at", "enabled_by", "disabled_at", "disabled_by"]
    list_filter = ["school", ("disabled_at", admin.EmptyFieldListFilter)]
    list_select_related = ["school", "merchant", "enabled_by", "disabled_by"]
    search_fields = ["school__name", "merchant__name"]
    fields = ["school", "merchant"]
    raw_id_fields = ["merchant"]
    actions = ["disable"]

    def get_readonly_fields(self, request, obj=None):
        return ["school", "merchant"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            saved = card_acceptance.card_acceptance_enable(school=obj.school, merchant=obj.merchant, enabled_by=request.user)
            obj.pk = saved.pk

    @admin.action(description="Disable: stop these merchants charging the school's cards")
    def disable(self, request, queryset):
        live = list(queryset.filter(disabled_at__isnull=True).select_related("school", "merchant"))
        for row in live:
            card_acceptance.card_acceptance_disable(school=row.school, merchant=row.merchant, disabled_by=request.user)
        self.message_user(request, f"{len(live)} acceptance(s) disabled.")


# --- Ledger and reconciliation: read-only. Money moves only through the services;
# a correction is a reversing transaction, never an edit here. ---------------


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EntryInline(admin.TabularInline):
    model = Entry
    extra = 0
    fields = ["id", "account", "amount", "balance_after", "created_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "kind", "balance", "held", "currency", "allow_negative"]
    list_filter = ["kind", "allow_negative"]
    search_fields = ["name", "system_code"]
    list_select_related = ["guardian", "student", "merchant"]
    raw_id_fields = ["guardian", "student", "merchant"]


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "reference", "actor", "created_at"]
    list_filter = ["kind"]
    search_fields = ["reference"]
    date_hierarchy = "created_at"
    raw_id_fields = ["reverses"]
    inlines = [EntryInline]


@admin.register(ReconciliationIssue)
class ReconciliationIssueAdmin(ReadOnlyAdmin):
    list_display = ["id", "run_at", "kind", "account", "transaction", "expected", "actual", "resolved_at"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter)]
    raw_id_fields = ["account", "transaction"]
    actions = ["mark_resolved"]

    @admin.action(description="Mark selected issues resolved")
    def mark_resolved(self, request, queryset):
        # The one write allowed here: finance closing an issue after correcting the ledger. An admin
        # action writes no LogEntry, so it records itself in the audit log.
        now = clock.now()
        with transaction.atomic():
            open_issues = ReconciliationIssue.objects.filter(pk__in=queryset.values("pk"), resolved_at__isnull=True)
            issue_ids = lock_objects(open_issues.values_list("pk", flat=True))
            resolved = ReconciliationIssue.objects.filter(pk__in=issue_ids).update(resolved_at=now)
            for issue_id in issue_ids:
                audit_record(
                    action="reconciliation_issue.resolve",
                    object_type="wallet.reconciliation_issue",
                    object_id=issue_id,
                    before={"resolved_at": None},
                    after={"resolved_at": now},
                    actor=platform_actor(request.user),
                )
        self.message_user(request, f"{resolved} issue(s) marked resolved.")
