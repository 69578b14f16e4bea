from django.contrib import admin

from core.models import OutboxJob


@admin.register(OutboxJob)
class OutboxJobAdmin(admin.ModelAdmin):
    list_display = ("pk", "task", "created_at", "sent_at", "attempts", "last_error")
    list_filter = ("task",)
    readonly_fields = ("task", "args", "created_at", "sent_at", "attempts", "last_error")
