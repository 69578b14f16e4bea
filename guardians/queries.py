"""The guardians' hot reads as SQL (core/sql.py says why): the link every guardian request acts through."""

from functools import cache

from core import roles
from core.sql import columns, fetch_one
from guardians.models import (
    AuthSession,
    Guardian,
    GuardianLink,
    ProgramAdministrator,
    School,
    StaffMember,
    Student,
    User,
)


@cache
def _active_link_sql() -> str:
    return f"""
        SELECT {columns(GuardianLink, "l")}, {columns(Student, "s")}, {columns(School, "sc")},
               {columns(Guardian, "g")}, {columns(User, "u")}
          FROM guardians_guardianlink l
          JOIN guardians_student s ON s.id = l.student_id
          JOIN guardians_school sc ON sc.id = s.school_id
          JOIN guardians_guardian g ON g.id = l.guardian_id
          JOIN guardians_user u ON u.id = g.user_id
         WHERE l.guardian_id = %s AND l.student_id = %s AND l.revoked_at IS NULL
         ORDER BY l.created_at, l.id
         LIMIT 1"""


def active_link(guardian_id: int, student_id: int) -> GuardianLink | None:
    """A guardian's live link to a child, with the student, school, guardian and user."""
    row = fetch_one(_active_link_sql(), [guardian_id, student_id], (GuardianLink, Student, School, Guardian, User))
    if row is None:
        return None
    link, student, school, guardian, user = row
    student.school, guardian.user = school, user
    link.student, link.guardian = student, guardian
    return link


@cache
def _session_with_user_sql() -> str:
    return f"""
        SELECT {columns(AuthSession, "a")}, {columns(User, "u")}, {columns(Guardian, "g")},
               {columns(StaffMember, "st")}, {columns(ProgramAdministrator, "pa")}
          FROM guardians_authsession a
          JOIN guardians_user u ON u.id = a.user_id
          LEFT JOIN guardians_guardian g ON g.user_id = u.id
          LEFT JOIN guardians_staffmember st ON st.user_id = u.id
          LEFT JOIN guardians_programadministrator pa ON pa.user_id = u.id
         WHERE a.id = %s"""


def session_with_user(session_id) -> AuthSession | None:
    """The one indexed probe (primary key) of every signed-in request: the session, its user, and the
    user's roles (each None when the user does not hold it)."""
    row = fetch_one(_session_with_user_sql(), [session_id], (AuthSession, User, Guardian, StaffMember, ProgramAdministrator))
    if row is None:
        return None
    session, user, guardian, staff, program_admin = row
    roles.roles_known(user, guardian=guardian, staff=staff, program_admin=program_admin)
    for name, row in (("guardian", guardian), ("staff", staff), ("program_admin", program_admin)):
        if row is not None:
            setattr(user, name, row)  # the relation knows the roles the user holds, too (`user.staff.school_id`)
    session.user = user
    return session
