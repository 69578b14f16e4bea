from django.contrib import admin

from wallet.models import Merchant, Terminal


class TerminalInline(admin.TabularInline):
    model = Terminal
    extra = 0
    fields = ["label", "key_prefix", "created_at", "revoked_at", "last_seen_at"]
    readonly_fields = ["key_prefix", "created_at", "last_seen_at"]
    can_delete = False


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "abn", "school", "is_active"]
    search_fields = ["name", "abn"]
    inlines = [TerminalInline]
