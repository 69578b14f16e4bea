from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from guardians.models import (
    ClosureDay,
    Guardian,
    GuardianLink,
    LinkCode,
    ProgramAdministrator,
    School,
    StaffMember,
    Student,
    Term,
    User,
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "phone")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "first_name", "last_name", "password1", "password2")}),)


class TermInline(admin.TabularInline):
    model = Term
    extra = 0


class ClosureDayInline(admin.TabularInline):
    model = ClosureDay
    extra = 0


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "time_zone", "canteen_cutoff"]
    search_fields = ["name", "code"]
    inlines = [TermInline, ClosureDayInline]


class GuardianLinkInline(admin.TabularInline):
    model = GuardianLink
    extra = 0
    raw_id_fields = ["guardian", "student", "revoked_by"]


@admin.register(Student)
class StudentAdmin(admin.ModelAdmin):
    list_display = ["first_name", "last_name", "school", "year_level", "roll_class", "student_number"]
    list_filter = ["school", "year_level"]
    search_fields = ["first_name", "last_name", "student_number"]
    inlines = [GuardianLinkInline]


@admin.register(Guardian)
class GuardianAdmin(admin.ModelAdmin):
    list_display = ["user", "postcode", "notify_by_email", "notify_by_push"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    raw_id_fields = ["user"]
    inlines = [GuardianLinkInline]


@admin.register(GuardianLink)
class GuardianLinkAdmin(admin.ModelAdmin):
    list_display = ["guardian", "student", "relationship", "can_manage_money", "can_give_consent", "revoked_at"]
    list_filter = ["relationship", "origin"]
    raw_id_fields = ["guardian", "student", "revoked_by"]


@admin.register(LinkCode)
class LinkCodeAdmin(admin.ModelAdmin):
    list_display = ["student", "kind", "created_at", "expires_at", "used_at", "revoked_at"]
    readonly_fields = ["code_hash"]
    raw_id_fields = ["student", "issued_by", "used_by"]


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "school", "roles"]
    list_filter = ["school"]
    raw_id_fields = ["user"]


@admin.register(ProgramAdministrator)
class ProgramAdministratorAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at"]
    raw_id_fields = ["user"]
