"""The guardians' hot reads as SQL (core/sql.py says why): the link every guardian request acts through."""

from functools import cache

from core.sql import columns, fetch_one
from guardians.models import Guardian, GuardianLink, School, Student, User


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
