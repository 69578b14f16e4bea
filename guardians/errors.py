"""What people, links, sessions, absences and leavers refuse. The kinds are core.errors'."""

from core.errors import ConflictError, DomainError, ForbiddenError, NotFoundError


class LinkCodeInvalid(DomainError):
    code = "link_code_invalid"
    default_message = "This link code is not valid."


class LinkCodeExpired(DomainError):
    code = "link_code_expired"
    default_message = "This link code has expired."


class LinkCodeUsed(ConflictError):
    code = "link_code_used"
    default_message = "This link code has already been used."


class AlreadyLinked(ConflictError):
    code = "already_linked"
    default_message = "You are already linked to this student."


class PermissionMissing(ForbiddenError):
    code = "permission_missing"
    default_message = "Your link to this student does not carry that permission."


class SessionRevoked(DomainError):
    code = "session_revoked"
    default_message = "This session has ended; sign in again."


class RefreshTokenReused(DomainError):
    code = "refresh_token_reused"
    default_message = "This refresh token was already used; the session has been ended for safety."


class WrongPassword(ForbiddenError):
    code = "wrong_password"
    default_message = "The current password is wrong."


class AbsenceDatesInvalid(DomainError):
    code = "absence_dates_invalid"
    default_message = "The absence dates are not valid."


class EmailTaken(ConflictError):
    code = "email_taken"
    default_message = "An account with this email already exists."


class RelationshipInvalid(LinkCodeInvalid):
    code = "invalid_relationship"
    default_message = "Unknown relationship."


# --- Leavers (guardians/leavers.py) ---


class StudentHasLeft(DomainError):
    """Refused by the apps that book a child for a day (pre-orders, event sign-ups) once they have left."""

    code = "student_left"
    default_message = "The student has left the school by that day: nothing can be booked for them."


class LeavingDateInvalid(DomainError):
    code = "leaving_date_invalid"
    default_message = "The leaving date is outside the range the school may set."


class StudentAlreadyLeaving(ConflictError):
    code = "student_already_leaving"
    default_message = "This student is already marked as leaving."


class LeaverNotFound(NotFoundError):
    """No live leaving decision for the student: rendered 404, like a student the caller cannot see."""

    code = "leaver_not_found"
    default_message = "This student is not marked as leaving."


class LeaverAlreadyLeft(ConflictError):
    code = "leaver_already_left"
    default_message = "The leaving day has come and the card is closed: a leaving can only be undone before it."
