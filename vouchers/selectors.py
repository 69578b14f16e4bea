"""Reads for vouchers. Tenant scoping lives here: a holder sees the vouchers they hold, a
merchant its own redemptions and settlements, an administrator the programs they run."""

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet, Sum

from core import roles
from guardians.models import User
from vouchers.models import (
    BulkIssueJob,
    Program,
    ProviderApproval,
    Redemption,
    RedemptionLine,
    Settlement,
    Voucher,
)
from wallet.models import Merchant


def program_admin(user: User):
    return roles.role_of(user, "program_admin") if user is not None and not getattr(user, "is_terminal", False) else None


def programs_administered_by(user: User) -> QuerySet[Program]:
    admin = program_admin(user)
    if admin is None:
        return Program.objects.none()
    return Program.objects.filter(administrators=admin).prefetch_related("issue_windows", "eligible_schools")


def programs_visible_to(user: User) -> QuerySet[Program]:
    """Everyone signed in sees the programs taking part; administrators also their own inactive ones."""
    visible = Q(is_active=True)
    admin = program_admin(user)
    if admin is not None:
        visible |= Q(administrators=admin)
    return Program.objects.filter(visible).distinct().prefetch_related("issue_windows", "eligible_schools")


def _voucher_reads(queryset: QuerySet[Voucher]) -> QuerySet[Voucher]:
    return queryset.select_related(
        "program", "issue_window__program", "student", "beneficiary_user__voucher_beneficiary", "holder", "school"
    )


def vouchers_held_by(user: User) -> QuerySet[Voucher]:
    return _voucher_reads(Voucher.objects.filter(holder=user))


def vouchers_of_program(program: Program) -> QuerySet[Voucher]:
    return _voucher_reads(Voucher.objects.filter(program=program))


def voucher_history(voucher: Voucher) -> QuerySet[RedemptionLine]:
    return RedemptionLine.objects.filter(voucher=voucher).select_related("redemption__merchant").order_by("-id")


def bulk_jobs_visible_to(user: User) -> QuerySet[BulkIssueJob]:
    return BulkIssueJob.objects.filter(program__in=programs_administered_by(user)).select_related("program")


def approvals_of_program(program: Program) -> QuerySet[ProviderApproval]:
    return ProviderApproval.objects.filter(program=program).select_related("merchant", "program")


def approvals_of_merchant(merchant: Merchant) -> QuerySet[ProviderApproval]:
    return ProviderApproval.objects.filter(merchant=merchant).select_related("program")


def redemptions_of_merchant(merchant: Merchant) -> QuerySet[Redemption]:
    """With each one's `receipt_lines` (and their vouchers), as a new redemption carries them (vouchers/redemption.py)."""
    lines = Prefetch("lines", queryset=RedemptionLine.objects.select_related("voucher"), to_attr=Redemption.RECEIPT_LINES)
    return Redemption.objects.filter(merchant=merchant).select_related("program").prefetch_related(lines)


def settlements_of_merchant(merchant: Merchant) -> QuerySet[Settlement]:
    return Settlement.objects.filter(merchant=merchant)


@dataclass(frozen=True)
class MerchantVoucherBalance:
    pending_amount: int
    in_payout_amount: int
    paid_amount: int
    currency: str = "AUD"


def merchant_voucher_balance(merchant: Merchant) -> MerchantVoucherBalance:
    """Pending: redeemed and not yet settled (less voids of settled redemptions). In payout:
    settled, transfer not yet confirmed. Paid: transferred, all time."""
    unsettled = (
        Redemption.objects.filter(merchant=merchant, settlement__isnull=True, voided_at__isnull=True).aggregate(
            total=Sum("amount")
        )["total"]
        or 0
    )
    clawed_back = (
        Redemption.objects.filter(
            merchant=merchant, settlement__isnull=False, voided_at__isnull=False, void_settlement__isnull=True
        ).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    by_status = dict(
        Settlement.objects.filter(merchant=merchant)
        .values_list("status")
        .annotate(total=Sum("amount"))
        .values_list("status", "total")
    )
    return MerchantVoucherBalance(
        pending_amount=unsettled - clawed_back,
        in_payout_amount=by_status.get(Settlement.Status.PENDING_PAYOUT, 0),
        paid_amount=by_status.get(Settlement.Status.PAID, 0),
    )
