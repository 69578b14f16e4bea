"""Event domain errors: stable codes, no HTTP (api/errors.py maps the base kinds to statuses)."""

from core.errors import ConflictError, DomainError, ForbiddenError, NotFoundError


class EventInvalid(DomainError):
    code = "event_invalid"
    default_message = "The event's details are not valid."


class ConsentFormInvalid(DomainError):
    code = "consent_form_invalid"
    default_message = "The consent form is not valid."


class EventStateInvalid(ConflictError):
    code = "event_state_invalid"
    default_message = "The event cannot make that change from its current state."


class EventNotOpen(ConflictError):
    code = "event_not_open"
    default_message = "This event is not open for sign-ups."


class SignupDeadlinePassed(DomainError):
    code = "signup_deadline_passed"
    default_message = "The sign-up deadline for this event has passed."


class StudentNotEligible(DomainError):
    code = "student_not_eligible"
    default_message = "This student is not eligible for this event."


class FormVersionStale(ConflictError):
    code = "form_version_stale"
    default_message = "The consent form has changed since you opened it; read the new version and sign again."


class AnswersInvalid(DomainError):
    code = "answers_invalid"
    default_message = "Some answers are missing or not valid."


class SignatureEmpty(DomainError):
    code = "signature_empty"
    default_message = "Draw your signature before signing."


class SignatureTooLarge(DomainError):
    code = "signature_too_large"
    default_message = "The signature drawing is too large."


class ConsentStatementRequired(DomainError):
    code = "consent_statement_required"
    default_message = "Tick the consent statement to sign."


class TypedNameInvalid(DomainError):
    code = "typed_name_invalid"
    default_message = "Type your full name to sign."


class AlreadySignedUp(ConflictError):
    code = "already_signed_up"
    default_message = "This student already has a place or a waitlist spot for this event."


class WaitlistFull(ConflictError):
    code = "waitlist_full"
    default_message = "The event and its waitlist are full."


class SignupNotPayable(ConflictError):
    code = "signup_not_payable"
    default_message = "This sign-up has nothing to pay now."


class PaymentDeadlinePassed(DomainError):
    code = "payment_deadline_passed"
    default_message = "The time to pay for this place has passed."


class WithdrawalClosed(ConflictError):
    code = "withdrawal_closed"
    default_message = "A paid place cannot be withdrawn after the sign-up deadline; contact the school."


class SignupStateInvalid(ConflictError):
    code = "signup_state_invalid"
    default_message = "The sign-up cannot make that change from its current state."


class CapacityBelowTaken(ConflictError):
    code = "capacity_below_taken"
    default_message = "More places are already taken than the new capacity."


class AttendanceNotOpen(DomainError):
    code = "attendance_not_open"
    default_message = "Attendance is marked on the days of the event."


class EventLinkInvalid(ForbiddenError):
    code = "event_link_invalid"
    default_message = "This link is not valid."


class EventLinkExpired(ForbiddenError):
    code = "event_link_expired"
    default_message = "This link has expired; open the event in the app instead."


class AudienceInvalid(DomainError):
    code = "audience_invalid"
    default_message = "The announcement's audience is not valid."


class CardPaymentUnavailable(ConflictError):
    code = "card_payment_unavailable"
    default_message = "Card payment is not available right now; pay from your wallet."


class SignupNotFound(NotFoundError):
    code = "signup_not_found"
    default_message = "No such sign-up."


class SignatureInvalid(DomainError):
    code = "signature_invalid"
    default_message = "The signature drawing is not valid."


class SignatureRemoved(NotFoundError):
    code = "signature_removed"
    default_message = "This consent was de-identified after the retention period: its signature was removed."


class EventNotFound(NotFoundError):
    code = "event_not_found"
    default_message = "No such event."


class SignupAlreadyPaid(SignupNotPayable):
    code = "signup_already_paid"
    default_message = "This place is already paid for."


class SignupBusy(ConflictError):
    code = "lock_timeout"
    default_message = "The event kept changing while this sign-up was being made; nothing was saved. Try again."
