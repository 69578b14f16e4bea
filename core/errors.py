"""Domain errors. Every domain app raises these (or subclasses of them).

An error carries a stable snake_case `code` and a human message, never an
HTTP status: `api/errors.py` maps the kinds below to statuses in one place.
The kernel is the root of the dependency chain, so the base kinds live here; each app declares
its own codes in its `errors.py`.
"""


class DomainError(Exception):
    """A request that the rules refuse. Rendered as 422 unless a subclass says otherwise."""

    code = "domain_error"
    default_message = "The request was refused."

    def __init__(self, message: str | None = None, *, code: str | None = None, **details):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.details = details
        super().__init__(self.message)


class NotFoundError(DomainError):
    """The object does not exist, or the caller may not know that it does."""

    code = "not_found"
    default_message = "Not found."


class ConflictError(DomainError):
    """The object's current state forbids the change (already used, raced, ...)."""

    code = "conflict"
    default_message = "The request conflicts with the current state."


class ForbiddenError(DomainError):
    """The caller is known to see the object but lacks the permission to act on it."""

    code = "forbidden"
    default_message = "You do not have permission to do this."


class PaymentRefusedError(DomainError):
    """Money could not move: insufficient funds, caps, frozen card, ..."""

    code = "payment_refused"
    default_message = "The payment was refused."


class InvalidInputError(DomainError):
    """The request itself is malformed in a way only the domain can tell (rendered 400)."""

    code = "invalid_input"
    default_message = "The request is not valid."


class NonexistentLocalTime(InvalidInputError):
    """A wall-clock time the clocks jump over on a daylight-saving day (core.school_time refuses it)."""

    code = "nonexistent_local_time"
    default_message = "That wall-clock time does not exist in the school's time zone on that day (the clocks jump over it)."
