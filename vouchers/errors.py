"""Voucher domain errors. Each carries a stable code; api/ maps the kind to a status.

`LookupFailure` marks the errors of a failed voucher look-up (unknown number, bad
token, stale rotating code, wrong date of birth): terminals are throttled on those,
so voucher numbers cannot be guessed.
"""

from core.errors import ConflictError, DomainError, ForbiddenError, NotFoundError
from guardians.errors import PermissionMissing


class LookupFailure(Exception):
    """Mixin: this error means the credential presented did not open a voucher."""


# --- Applying and issuing ---------------------------------------------------


class ProgramClosed(DomainError):
    code = "program_closed"
    default_message = "This program is not taking applications."


class NoOpenIssueWindow(DomainError):
    code = "no_open_issue_window"
    default_message = "No issue window of this program is open today."


class WrongBeneficiaryKind(DomainError):
    code = "wrong_beneficiary_kind"
    default_message = "This program is not for this kind of beneficiary."


class NotEligibleAge(DomainError):
    code = "not_eligible_age"
    default_message = "The beneficiary's age is outside the program's range."


class NotEnrolled(DomainError):
    code = "not_enrolled"
    default_message = "The child is not enrolled at a participating school."


class NotResident(DomainError):
    code = "not_resident"
    default_message = "Residency has not been declared or attested."


class MeansTestNotMet(DomainError):
    code = "means_test_not_met"
    default_message = "No current means-test attestation for this family."


class AlreadyIssuedThisPeriod(ConflictError):
    code = "already_issued_this_period"
    default_message = "This beneficiary already has this period's vouchers."


class DateOfBirthMismatch(LookupFailure, DomainError):
    code = "date_of_birth_mismatch"
    default_message = "The date of birth does not match."


class DateOfBirthRequired(DomainError):
    code = "date_of_birth_required"
    default_message = "A printed voucher code or a typed number needs the beneficiary's date of birth."


class BulkCsvInvalid(DomainError):
    code = "bulk_csv_invalid"
    default_message = "The CSV cannot be read."


# --- Looking up a voucher -----------------------------------------------------


class VoucherNotFound(LookupFailure, NotFoundError):
    code = "voucher_not_found"
    default_message = "No such voucher."


class VoucherTokenInvalid(LookupFailure, DomainError):
    code = "voucher_token_invalid"
    default_message = "This is not a valid Tuckbox voucher code."


class VoucherCodeExpired(LookupFailure, DomainError):
    code = "voucher_code_expired"
    default_message = "This code has changed since it was shown; scan the live code in the app."


# --- The voucher's state --------------------------------------------------------


class VoucherExpired(ConflictError):
    code = "voucher_expired"
    default_message = "This voucher has expired."


class VoucherRevoked(ConflictError):
    code = "voucher_revoked"
    default_message = "This voucher has been revoked."


class VoucherCancelled(ConflictError):
    code = "voucher_cancelled"
    default_message = "This voucher has been cancelled."


class VoucherAlreadyRedeemed(ConflictError):
    code = "voucher_already_redeemed"
    default_message = "This voucher has already been redeemed."


class VoucherStateInvalid(ConflictError):
    code = "voucher_state_invalid"
    default_message = "The voucher cannot make that change from its current state."


# --- Redeeming -------------------------------------------------------------------


class MerchantNotApproved(ForbiddenError):
    code = "merchant_not_approved"
    default_message = "This merchant is not approved to accept this program."


class MerchantApprovalSuspended(ForbiddenError):
    code = "merchant_approval_suspended"
    default_message = "This merchant's approval for the program is suspended."


class MerchantApprovalExpired(ForbiddenError):
    code = "merchant_approval_expired"
    default_message = "This merchant's approval, insurance or working-with-children check has expired."


class CategoryNotAllowed(DomainError):
    code = "category_not_allowed"
    default_message = "The voucher cannot be spent in this category here."


class CategoryRequired(DomainError):
    code = "category_required"
    default_message = "Say which of the approved categories this purchase is in."


class WeekdayNotAllowed(DomainError):
    code = "weekday_not_allowed"
    default_message = "The voucher cannot be used on this day of the week."


class VoucherTiedToOtherProvider(DomainError):
    code = "voucher_tied_to_other_provider"
    default_message = "This voucher has been used with another provider and can only be used there."


class ProviderAlreadyUsedThisTerm(DomainError):
    code = "provider_already_used_this_term"
    default_message = "Another voucher of this program already paid this provider this term."


class AmountExceedsRemaining(DomainError):
    code = "amount_exceeds_remaining"
    default_message = "The amount is more than what is left on the voucher."


class StackingNotAllowed(DomainError):
    code = "stacking_not_allowed"
    default_message = "This program's vouchers cannot be combined in one payment."


class StackMismatch(DomainError):
    code = "stack_mismatch"
    default_message = "Vouchers combined in one payment must be distinct, of one program and one beneficiary."


class RedemptionNotFound(NotFoundError):
    code = "redemption_not_found"
    default_message = "No such redemption for this merchant."


class RedemptionAlreadyVoided(ConflictError):
    code = "redemption_already_voided"
    default_message = "This redemption has already been voided."


class VoidWindowClosed(DomainError):
    code = "void_window_closed"
    default_message = "The time to void this redemption has passed."


# --- Settlement ------------------------------------------------------------------------


class SettlementPeriodOpen(DomainError):
    code = "settlement_period_open"
    default_message = "That day has not ended yet in the program's time zone: settle it from tomorrow."


class SettlementInProgress(ConflictError):
    code = "settlement_in_progress"
    default_message = "Another settlement of this program is being made; retry shortly."


# --- Providers -----------------------------------------------------------------------


class ProviderApplicationExists(ConflictError):
    code = "provider_application_exists"
    default_message = "This merchant already has an application or approval for this program."


class ApprovalStateInvalid(ConflictError):
    code = "approval_state_invalid"
    default_message = "The approval cannot make that change from its current state."


class WwccRequired(DomainError):
    code = "wwcc_required"
    default_message = "A children's program needs the provider's working-with-children check and its expiry."


class EvidenceExpired(DomainError):
    code = "evidence_expired"
    default_message = "The evidence has already expired."


class CategoryNotOffered(DomainError):
    code = "category_not_offered"
    default_message = "The program or the merchant does not cover that category."


# --- Programs and bulk issue ---------------------------------------------------


class VoucherNumberInvalid(DomainError):
    """Not a look-up failure: a mistyped number is caught before any voucher is searched for."""

    code = "voucher_number_invalid"
    default_message = "That is not a voucher number: check each character."


class UnknownStudent(DomainError):
    code = "unknown_student"
    default_message = "No student with that school code and student number."


class NoGuardian(PermissionMissing):
    code = "no_guardian"
    default_message = "No linked guardian with the money permission to hold the voucher."


class UnknownUser(DomainError):
    code = "unknown_user"
    default_message = "No Tuckbox account with that email."


class ExpiryRuleIncomplete(DomainError):
    code = "expiry_rule_incomplete"
    default_message = "The expiry rule needs its date or period."


class ProgramCodeTaken(DomainError):
    code = "program_code_taken"
    default_message = "A program with this code already exists."


class ProgramDatesInvalid(DomainError):
    code = "program_dates_invalid"
    default_message = "ends_on is before starts_on."


class AttestationDatesInvalid(DomainError):
    code = "attestation_dates_invalid"
    default_message = "valid_until is before valid_from."
