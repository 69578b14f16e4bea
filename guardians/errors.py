"""Domain errors. Every domain app raises these (or subclasses of them).

An error carries a stable snake_case `code` and a human message, never an
HTTP status: `api/errors.py` maps the kinds below to statuses in one place.
`guardians` is the root of the dependency chain, so the base kinds live here.
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
