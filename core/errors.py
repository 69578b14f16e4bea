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
