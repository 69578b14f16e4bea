"""The vouchers' hot read as SQL (core/sql.py says why): what every redemption and preview reads."""

from functools import cache

from core.sql import columns, fetch_one
from guardians.models import Student, User
from vouchers.models import AdultBeneficiary, IssueWindow, Program, Voucher


@cache
def _voucher_by_number_sql() -> str:
    return f"""
        SELECT {columns(Voucher, "v")}, {columns(Program, "p")}, {columns(IssueWindow, "w")},
               {columns(User, "h")}, {columns(Student, "s")}, {columns(User, "b")}, {columns(AdultBeneficiary, "ab")}
          FROM vouchers_voucher v
          JOIN vouchers_program p ON p.id = v.program_id
          JOIN vouchers_issuewindow w ON w.id = v.issue_window_id
          JOIN guardians_user h ON h.id = v.holder_id
          LEFT JOIN guardians_student s ON s.id = v.student_id
          LEFT JOIN guardians_user b ON b.id = v.beneficiary_user_id
          LEFT JOIN vouchers_adultbeneficiary ab ON ab.user_id = v.beneficiary_user_id
         WHERE v.number = %s"""


def voucher_by_number(number: str) -> Voucher | None:
    """A voucher with its program, issue window, holder and beneficiary (a student, or an adult and
    their profile): everything a preview or a redemption reads about it, in one statement."""
    row = fetch_one(
        _voucher_by_number_sql(), [number], (Voucher, Program, IssueWindow, User, Student, User, AdultBeneficiary)
    )
    if row is None:
        return None
    (
        voucher,
        voucher.program,
        voucher.issue_window,
        voucher.holder,
        voucher.student,
        voucher.beneficiary_user,
        profile,
    ) = row
    if voucher.beneficiary_user is not None:
        voucher.beneficiary_user.voucher_beneficiary = profile
    return voucher
