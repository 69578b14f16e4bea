"""Administrators' writes: programs, attestations, provider approvals, revoking and cancelling vouchers.

Issuing lives in `issuing`, redeeming in `redemption`, settlement in `settlement`.
"""

from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction

from audit.services import audit_record, changed_fields, snapshot
from core import clock
from core.locks import lock_one
from core.notifications import notify
from guardians.models import ProgramAdministrator, School, Student, User
from vouchers import reserves
from vouchers.errors import (
    ApprovalStateInvalid,
    AttestationDatesInvalid,
    CategoryNotOffered,
    EvidenceExpired,
    ExpiryRuleIncomplete,
    ProgramCodeTaken,
    ProgramDatesInvalid,
    ProviderApplicationExists,
    VoucherStateInvalid,
    WwccRequired,
)
from vouchers.models import (
    LIVE_STATES,
    ApprovalStatus,
    Attestation,
    AttestationSource,
    BeneficiaryKind,
    ExpiryRule,
    IssueWindow,
    PayoutDestination,
    Program,
    ProviderApproval,
    Voucher,
    VoucherState,
)
from wallet.abn import abn_is_valid
from wallet.accounts import system_account
from wallet.errors import InvalidAbn
from wallet.models import AccountKind, Merchant, MerchantCategory, Terminal

# --- Programs -----------------------------------------------------------------


@dataclass
class WindowSpec:
    name: str
    opens_month: int = 1
    opens_day: int = 1
    closes_month: int = 12
    closes_day: int = 31
    voucher_count: int = 1
    categories: list[str] = field(default_factory=list)
    expiry_rule: str = ""
    expiry_date: date | None = None
    expiry_period: int | None = None


def _check_expiry(rule: str, fixed: date | None, period: int | None) -> None:
    if rule == ExpiryRule.FIXED_DATE and fixed is None:
        raise ExpiryRuleIncomplete("A fixed-date expiry needs expiry_date.")
    if rule in (ExpiryRule.MONTHS_AFTER_ISSUE, ExpiryRule.DAYS_AFTER_ISSUE) and not period:
        raise ExpiryRuleIncomplete("An expiry after issue needs expiry_period.")


def program_create(
    *,
    created_by: ProgramAdministrator,
    windows: list[WindowSpec],
    vouchers_per_period: int = 1,
    eligible_school_ids: list[int] | None = None,
    **fields,
) -> Program:
    """Create a program, its funding account and its issue windows.

    Without windows the program issues `vouchers_per_period` vouchers per calendar year.
    The creator administers it. The funding account may go negative: it is what the
    program owes for vouchers redeemed, until the program pays the platform.
    """
    categories = fields.get("categories") or []
    if not categories or set(categories) - set(MerchantCategory.values):
        raise CategoryNotOffered("A program needs one or more known merchant categories.")
    _check_expiry(fields.get("expiry_rule", ExpiryRule.END_OF_YEAR), fields.get("expiry_date"), fields.get("expiry_period"))
    for window in windows:
        if set(window.categories) - set(categories):
            raise CategoryNotOffered(f"Window {window.name!r} names categories outside the program's.")
        if window.expiry_rule:
            _check_expiry(window.expiry_rule, window.expiry_date, window.expiry_period)
    if not windows:
        windows = [WindowSpec(name="Calendar year", voucher_count=vouchers_per_period)]
    try:
        with transaction.atomic(durable=True):
            program = Program(created_by=created_by.user, **fields)
            program.funding_account = system_account(
                code=f"voucher_program:{fields['code']}",
                kind=AccountKind.VOUCHER_FUNDING,
                name=f"Voucher program {fields['name']}"[:120],
                allow_negative=True,
            )
            program.save()
            program.administrators.add(created_by)
            if eligible_school_ids:
                program.eligible_schools.set(School.objects.filter(pk__in=eligible_school_ids))
            IssueWindow.objects.bulk_create(
                IssueWindow(program=program, position=position, **vars(window)) for position, window in enumerate(windows)
            )
    except IntegrityError:
        raise ProgramCodeTaken() from None
    return program


PROGRAM_UPDATABLE = {"name", "description", "is_active", "ends_on", "allowed_weekdays"}


def program_update(*, program: Program, **changes) -> Program:
    """Change what can change while vouchers are out: name, description, whether it takes
    applications, its closing day, and its weekdays (read at each redemption)."""
    unknown = set(changes) - PROGRAM_UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    if changes.get("ends_on") and changes["ends_on"] < program.starts_on:
        raise ProgramDatesInvalid()
    for name, value in changes.items():
        setattr(program, name, value)
    program.save(update_fields=list(changes))
    return program


# --- Attestations -------------------------------------------------------------


def attestation_record(
    *,
    kind: str,
    attested_by: User,
    student: Student | None = None,
    user: User | None = None,
    evidence: str = "",
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> Attestation:
    """Record that an administrator vouches for a fact about a child or an adult."""
    if (student is None) == (user is None):
        raise ValueError("exactly one of student and user")
    valid_from = valid_from or clock.local_today(settings.VOUCHER_TIME_ZONE)
    if valid_until is not None and valid_until < valid_from:
        raise AttestationDatesInvalid()
    return Attestation.objects.create(
        kind=kind,
        student=student,
        user=user,
        source=AttestationSource.ADMINISTRATOR,
        attested_by=attested_by,
        evidence=evidence,
        valid_from=valid_from,
        valid_until=valid_until,
    )


# --- Providers ------------------------------------------------------------------


def _check_categories(program: Program, merchant: Merchant, categories: list[str]) -> list[str]:
    outside = sorted(set(categories) - set(program.categories))
    if not categories or outside:
        raise CategoryNotOffered(f"{program.name} covers {', '.join(program.categories)}.", outside=outside)
    not_merchants = sorted(set(categories) - set(merchant.categories))
    if not_merchants:
        raise CategoryNotOffered("The merchant does not trade in that category.", outside=not_merchants)
    return sorted(set(categories))


def _check_abn(abn: str) -> str:
    digits = abn.replace(" ", "")
    if not abn_is_valid(digits):
        raise InvalidAbn()
    return digits


def provider_apply(
    *,
    terminal: Terminal,
    program: Program,
    categories: list[str],
    abn: str,
    insurance_expires_on: date | None,
    wwcc_expires_on: date | None,
    note: str = "",
) -> ProviderApproval:
    """A merchant (through one of its terminals) asks to accept a program for some categories."""
    merchant = terminal.merchant
    categories = _check_categories(program, merchant, categories)
    try:
        with transaction.atomic():
            return ProviderApproval.objects.create(
                program=program,
                merchant=merchant,
                categories=categories,
                abn=_check_abn(abn),
                insurance_expires_on=insurance_expires_on,
                wwcc_expires_on=wwcc_expires_on,
                note=note,
                applied_by_terminal=terminal,
            )
    except IntegrityError:
        raise ProviderApplicationExists() from None


def _locked_approval(approval: ProviderApproval) -> ProviderApproval:
    return lock_one(ProviderApproval.objects.select_related("program", "merchant").filter(pk=approval.pk))


def provider_approve(
    *,
    approval: ProviderApproval,
    decided_by: User,
    abn: str,
    insurance_expires_on: date,
    wwcc_expires_on: date | None,
    expires_on: date | None = None,
    categories: list[str] | None = None,
    stripe_account_id: str = "",
) -> ProviderApproval:
    """Approve with the evidence the administrator checked. Children's programs need a
    working-with-children check. Approving an approved one updates its evidence."""
    with transaction.atomic(durable=True):
        approval = _locked_approval(approval)
        before = snapshot(approval, APPROVAL_AUDITED_FIELDS)
        if approval.status not in (ApprovalStatus.PENDING, ApprovalStatus.APPROVED):
            raise ApprovalStateInvalid(f"A {approval.status} approval cannot be approved; reinstate a suspended one.")
        program = approval.program
        today = clock.local_today(program.time_zone)
        if program.beneficiary_kind == BeneficiaryKind.CHILD and wwcc_expires_on is None:
            raise WwccRequired()
        expired = [
            name
            for name, value in (("insurance", insurance_expires_on), ("wwcc", wwcc_expires_on), ("approval", expires_on))
            if value is not None and value < today
        ]
        if expired:
            raise EvidenceExpired(expired=expired)
        approval.categories = _check_categories(program, approval.merchant, categories or approval.categories)
        approval.abn = _check_abn(abn)
        approval.insurance_expires_on = insurance_expires_on
        approval.wwcc_expires_on = wwcc_expires_on
        approval.expires_on = expires_on
        approval.status = ApprovalStatus.APPROVED
        approval.decided_by = decided_by
        approval.decided_at = clock.now()
        approval.reason = ""
        approval.save()
        if stripe_account_id:
            PayoutDestination.objects.update_or_create(
                merchant=approval.merchant,
                defaults={"stripe_account_id": stripe_account_id, "updated_by": decided_by, "updated_at": clock.now()},
            )
        _audit_approval(approval, "provider.approve", before, decided_by, payout_destination_changed=bool(stripe_account_id))
    return approval


APPROVAL_AUDITED_FIELDS = ("status", "categories", "abn", "insurance_expires_on", "wwcc_expires_on", "expires_on", "reason")


def _audit_approval(approval: ProviderApproval, action: str, before: dict, decided_by: User, **details) -> None:
    before, after = changed_fields(before, snapshot(approval, APPROVAL_AUDITED_FIELDS))
    audit_record(
        action=action,
        object_type="vouchers.provider_approval",
        object_id=approval.pk,
        program_id=approval.program_id,
        before=before,
        after=after,
        details={"merchant_id": approval.merchant_id, **details},
        actor=decided_by,
    )


# Which decision moves an approval from which statuses to which.
APPROVAL_DECISIONS = {
    "reject": ({ApprovalStatus.PENDING}, ApprovalStatus.REJECTED),
    "suspend": ({ApprovalStatus.APPROVED}, ApprovalStatus.SUSPENDED),
    "reinstate": ({ApprovalStatus.SUSPENDED}, ApprovalStatus.APPROVED),
}


def provider_decide(*, approval: ProviderApproval, decided_by: User, decision: str, reason: str = "") -> ProviderApproval:
    """Reject a pending application, suspend an approval (takes effect at the next redemption), or reinstate it."""
    allowed_from, target = APPROVAL_DECISIONS[decision]
    with transaction.atomic(durable=True):
        approval = _locked_approval(approval)
        if approval.status == target:
            return approval
        if approval.status not in allowed_from:
            raise ApprovalStateInvalid(f"A {approval.status} approval cannot be {decision}ed.")
        before = snapshot(approval, APPROVAL_AUDITED_FIELDS)
        approval.status = target
        approval.decided_by = decided_by
        approval.decided_at = clock.now()
        approval.reason = reason if target != ApprovalStatus.APPROVED else ""
        approval.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        _audit_approval(approval, f"provider.{decision}", before, decided_by)
    return approval


# --- Revoking and cancelling vouchers ---------------------------------------------------


def voucher_end(*, voucher: Voucher, ended_by: User, action: str, reason: str) -> Voucher:
    """`revoke` stops a voucher for good (fraud, ineligibility found later); what is left is frozen,
    and the period stays used. `cancel` undoes an issue made in error: only an unused voucher,
    and the beneficiary may apply again. Repeating either is harmless."""
    target = VoucherState.REVOKED if action == "revoke" else VoucherState.CANCELLED
    with transaction.atomic(durable=True):
        voucher = lock_one(Voucher.objects.select_related("program", "holder").filter(pk=voucher.pk))
        if voucher.state == target:
            return voucher
        if voucher.state not in LIVE_STATES:
            raise VoucherStateInvalid(f"A {voucher.state} voucher cannot be {target}.")
        if target == VoucherState.CANCELLED and voucher.redemption_lines.filter(redemption__voided_at__isnull=True).exists():
            raise VoucherStateInvalid("A voucher that has been used cannot be cancelled; revoke it instead.")
        state_before = voucher.state
        voucher.state = target
        voucher.ended_at = clock.now()
        voucher.ended_by = ended_by
        voucher.end_reason = reason[:200]
        voucher.save(update_fields=["state", "ended_at", "ended_by", "end_reason"])
        reserves.reserve_release_enqueue(voucher.pk)
        audit_record(
            action=f"voucher.{action}",
            object_type="vouchers.voucher",
            object_id=voucher.pk,
            program_id=voucher.program_id,
            before={"state": state_before},
            after={"state": voucher.state, "end_reason": voucher.end_reason},
            actor=ended_by,
        )
        notify(
            users=[voucher.holder],
            kind=f"voucher_{target}",
            title=f"Your {voucher.program.name} voucher was {target}",
            body=reason or "Contact the program if you think this is a mistake.",
            data={"voucher_id": voucher.pk},
            dedupe_key=f"voucher_{target}:{voucher.pk}",
        )
    return voucher
