"""Who reads which part of the audit log: platform staff all of it, a school's admins their
school's rows, no one else any of it."""

from django.db.models import QuerySet

from audit.models import AuditEntry
from core import roles


def audit_log_reader(user) -> bool:
    if user is None or getattr(user, "is_terminal", False) or not getattr(user, "is_authenticated", False):
        return False
    staff = roles.role_of(user, "staff")
    return bool(getattr(user, "is_staff", False)) or (staff is not None and staff.has_role("admin"))


def audit_entries_visible_to(user) -> QuerySet[AuditEntry]:
    if not audit_log_reader(user):
        return AuditEntry.objects.none()
    if getattr(user, "is_staff", False):
        return AuditEntry.objects.all()
    return AuditEntry.objects.filter(school_id=user.staff.school_id)
