"""Reads for people and links. Every query a view makes about people goes through here,
so tenant scoping (who may see which student) is decided in one place."""

from django.db.models import Prefetch, Q, QuerySet

from core import roles
from guardians import queries
from guardians.models import Guardian, GuardianLink, School, StaffMember, StaffRole, Student, User


def guardian_for_user(user: User) -> Guardian | None:
    return roles.role_of(user, "guardian") if user else None


def staff_for_user(user: User) -> StaffMember | None:
    return roles.role_of(user, "staff") if user else None


def students_visible_to(user: User) -> QuerySet[Student]:
    """Students a user may see: their linked children (guardians) and their school's (staff).

    A teacher can also be a parent, so both conditions may apply at once.
    """
    visible = Q(pk__in=[])
    guardian = guardian_for_user(user)
    if guardian is not None:
        visible |= Q(
            pk__in=GuardianLink.objects.filter(guardian=guardian, revoked_at__isnull=True).values("student_id")
        )
    staff = staff_for_user(user)
    if staff is not None:
        visible |= Q(school_id=staff.school_id)
    return Student.objects.select_related("school").filter(visible)


def active_link(*, guardian: Guardian | None, student_id: int) -> GuardianLink | None:
    if guardian is None:
        return None
    return queries.active_link(guardian.pk, student_id)


def links_for_student(student: Student, *, include_revoked: bool = False) -> QuerySet[GuardianLink]:
    qs = GuardianLink.objects.filter(student=student).select_related("guardian__user")
    return qs if include_revoked else qs.filter(revoked_at__isnull=True)


def links_for_guardian(guardian: Guardian) -> QuerySet[GuardianLink]:
    return (
        GuardianLink.objects.filter(guardian=guardian, revoked_at__isnull=True)
        .select_related("student__school")
        .prefetch_related(Prefetch("student__guardian_links"))
    )


def school_by_code(code: str) -> School | None:
    return School.objects.filter(code=code.lower()).first()


def schools_visible_to(user: User) -> QuerySet[School]:
    """Staff see their school; guardians the schools of their linked children."""
    return School.objects.filter(
        Q(pk__in=students_visible_to(user).values("school_id")) | Q(staff__user=user)
    ).distinct()


def links_revocable_by(user: User) -> QuerySet[GuardianLink]:
    """A guardian may drop their own links; a school admin any link at their school."""
    revocable = Q(pk__in=[])
    guardian = guardian_for_user(user)
    if guardian is not None:
        revocable |= Q(guardian=guardian)
    staff = staff_for_user(user)
    if staff is not None and staff.has_role(StaffRole.ADMIN):
        revocable |= Q(student__school_id=staff.school_id)
    return GuardianLink.objects.filter(revocable, revoked_at__isnull=True).select_related("guardian__user", "student")
