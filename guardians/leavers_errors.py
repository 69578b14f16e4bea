"""Why marking (or un-marking) a leaver is refused."""

from core.errors import ConflictError, DomainError, NotFoundError


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
