from django.contrib import admin

from events.models import Announcement, ConsentChain, ConsentFormVersion, ConsentRecord, Event, Signup


class ReadOnlyAdmin(admin.ModelAdmin):
    """Evidence is append-only: the admin shows it and changes nothing."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["title", "school", "kind", "starts_at", "signup_deadline", "cost", "capacity", "status"]
    list_filter = ["status", "kind", "school"]
    search_fields = ["title", "location"]
    readonly_fields = ["consent_form", "status", "published_at", "cancelled_at", "cancelled_by", "created_by", "created_at", "updated_at"]


@admin.register(Signup)
class SignupAdmin(ReadOnlyAdmin):
    list_display = ["event", "student", "status", "amount_due", "amount_paid", "refunded_amount", "payment_due_at", "attendance"]
    list_filter = ["status", "payment_method"]
    search_fields = ["student__first_name", "student__last_name", "event__title"]


@admin.register(ConsentFormVersion)
class ConsentFormVersionAdmin(ReadOnlyAdmin):
    list_display = ["event", "number", "content_hash", "created_at"]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ["school", "sequence", "event", "student", "typed_name", "signed_at", "record_hash"]
    list_filter = ["school"]
    exclude = ["signature_png"]


@admin.register(ConsentChain)
class ConsentChainAdmin(ReadOnlyAdmin):
    list_display = ["school", "length", "head_hash", "updated_at"]


@admin.register(Announcement)
class AnnouncementAdmin(ReadOnlyAdmin):
    list_display = ["title", "school", "audience", "posted_by", "posted_at", "recipient_count"]
