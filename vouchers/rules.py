"""The rules a redemption must pass, checked in a fixed order so every terminal gets the same answer.

1. The voucher's state: revoked, cancelled, used up, expired (in the voucher's zone).
2. The merchant's approval for the program: exists, not suspended, nothing lapsed.
3. The category: the voucher's categories that the merchant is approved for.
4. The weekday, in the voucher's zone.
5. One provider: a voucher already used elsewhere is spent only there.
6. Once per term: no other voucher of the program paid this provider this term.

The preview runs these functions to tell the cashier in advance; the redemption runs
the same rules, in the same order, under the vouchers' row locks in the database
(vouchers/sql/voucher_redeem.pg.sql): a change to one is a change to the other, and
tests/vouchers/test_redemption.py holds them to the same answers.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from vouchers import periods
from vouchers.errors import (
    CategoryNotAllowed,
    CategoryRequired,
    MerchantApprovalExpired,
    MerchantApprovalSuspended,
    MerchantNotApproved,
    ProviderAlreadyUsedThisTerm,
    VoucherAlreadyRedeemed,
    VoucherCancelled,
    VoucherExpired,
    VoucherRevoked,
    VoucherTiedToOtherProvider,
    WeekdayNotAllowed,
)
from vouchers.models import (
    ApprovalStatus,
    BeneficiaryKind,
    Program,
    ProviderApproval,
    RedemptionLine,
    Voucher,
    VoucherState,
)
from wallet.models import Merchant

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def check_state(voucher: Voucher, now: datetime) -> None:
    state = voucher.state_at(now)
    if state == VoucherState.REVOKED:
        raise VoucherRevoked()
    if state == VoucherState.CANCELLED:
        raise VoucherCancelled()
    if state == VoucherState.REDEEMED or voucher.remaining_value == 0:
        raise VoucherAlreadyRedeemed()
    if state == VoucherState.EXPIRED:
        raise VoucherExpired(expired_on=voucher.expires_on.isoformat())


def approval_for(program: Program, merchant: Merchant) -> ProviderApproval | None:
    return (
        ProviderApproval.objects.filter(program_id=program.pk, merchant_id=merchant.pk)
        .exclude(status=ApprovalStatus.REJECTED)
        .order_by("-id")
        .first()
    )


def check_approval(approval: ProviderApproval | None, program: Program, now: datetime) -> ProviderApproval:
    if approval is None or approval.status == ApprovalStatus.PENDING:
        raise MerchantNotApproved()
    if approval.status == ApprovalStatus.SUSPENDED:
        raise MerchantApprovalSuspended(reason=approval.reason)
    today = now.astimezone(ZoneInfo(program.time_zone)).date()
    lapsed = approval.lapsed_evidence(today, needs_wwcc=program.beneficiary_kind == BeneficiaryKind.CHILD)
    if lapsed:
        raise MerchantApprovalExpired(lapsed=lapsed)
    return approval


def redeemable_categories(voucher: Voucher, approval: ProviderApproval) -> list[str]:
    allowed = set(voucher.issue_window.effective_categories()) & set(approval.categories)
    return sorted(allowed)


def resolve_category(vouchers: list[Voucher], approval: ProviderApproval, requested: str | None) -> str:
    allowed = set(redeemable_categories(vouchers[0], approval))
    for voucher in vouchers[1:]:
        allowed &= set(redeemable_categories(voucher, approval))
    if requested is not None:
        if requested not in allowed:
            raise CategoryNotAllowed(category=requested, allowed=sorted(allowed))
        return requested
    if not allowed:
        raise CategoryNotAllowed(allowed=[])
    if len(allowed) > 1:
        raise CategoryRequired(allowed=sorted(allowed))
    return next(iter(allowed))


def check_weekday(voucher: Voucher, now: datetime) -> None:
    weekday = now.astimezone(ZoneInfo(voucher.time_zone)).weekday()
    allowed = voucher.program.allowed_weekdays
    if weekday not in allowed:
        raise WeekdayNotAllowed(
            f"{voucher.program.name} vouchers cannot be used on a {WEEKDAY_NAMES[weekday]}.",
            allowed_weekdays=sorted(allowed),
        )


def _live_lines():
    return RedemptionLine.objects.filter(redemption__voided_at__isnull=True)


def check_one_provider(voucher: Voucher, merchant: Merchant) -> None:
    if not voucher.program.one_provider:
        return
    if _live_lines().filter(voucher=voucher).exclude(redemption__merchant=merchant).exists():
        raise VoucherTiedToOtherProvider()


def check_once_per_term(vouchers: list[Voucher], merchant: Merchant, now: datetime) -> None:
    first = vouchers[0]
    if not first.program.once_per_term:
        return
    today = now.astimezone(ZoneInfo(first.time_zone)).date()
    begins, ends = periods.term_window(school_id=first.school_id, today=today)
    since = periods.end_of_local_day(begins - timedelta(days=1), first.time_zone)
    until = periods.end_of_local_day(ends, first.time_zone)
    used = (
        _live_lines()
        .filter(
            voucher__program=first.program,
            voucher__beneficiary_key=first.beneficiary_key,
            redemption__merchant=merchant,
            redemption__created_at__gte=since,
            redemption__created_at__lt=until,
        )
        .exclude(voucher__in=vouchers)
    )
    if used.exists():
        raise ProviderAlreadyUsedThisTerm(counts_from=begins.isoformat(), counts_until=ends.isoformat())


def check_all(
    *, vouchers: list[Voucher], merchant: Merchant, approval: ProviderApproval | None, now: datetime, category: str | None
) -> str:
    """Run every rule; return the category the redemption is booked under."""
    for voucher in vouchers:
        check_state(voucher, now)
    approval = check_approval(approval, vouchers[0].program, now)
    booked = resolve_category(vouchers, approval, category)
    for voucher in vouchers:
        check_weekday(voucher, now)
        check_one_provider(voucher, merchant)
    check_once_per_term(vouchers, merchant, now)
    return booked
