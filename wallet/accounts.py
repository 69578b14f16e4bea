"""Finding (and on first use, opening) the accounts each party holds."""

from django.db import IntegrityError, transaction

from guardians.models import Guardian, Student
from wallet import queries
from wallet.models import Account, AccountKind, Merchant

PROCESSOR_CLEARING = "processor_clearing"
PLATFORM_FEES = "platform_fees"


def _find(lookup: dict) -> Account | None:
    """By owner and kind (an indexed unique pair), or for the platform's own accounts by system code."""
    if "system_code" in lookup:
        return queries.account_with_system_code(lookup["system_code"])
    ((owner, party),) = ((name, value) for name, value in lookup.items() if name in queries.OWNER_COLUMNS)
    return queries.account_of_owner(lookup["kind"], owner, party.pk)


def _get_or_open(lookup: dict, defaults: dict) -> Account:
    account = _find(lookup)
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(**lookup, **defaults)
    except IntegrityError:  # opened concurrently by another request
        return Account.objects.get(**lookup)


def guardian_wallet(guardian: Guardian) -> Account:
    return _get_or_open(
        {"kind": AccountKind.GUARDIAN_WALLET, "guardian": guardian}, {"name": f"Wallet of guardian {guardian.pk}"}
    )


def student_card_account(student: Student) -> Account:
    return _get_or_open(
        {"kind": AccountKind.STUDENT_CARD, "student": student}, {"name": f"Card balance of student {student.pk}"}
    )


def merchant_payable(merchant: Merchant) -> Account:
    """What we owe a merchant until settlement pays it out."""
    return _get_or_open(
        {"kind": AccountKind.MERCHANT_PAYABLE, "merchant": merchant},
        # A refund after a payout may leave the merchant owing us; the next settlement nets it.
        {"name": f"Payable to merchant {merchant.pk}", "allow_negative": True},
    )


def processor_clearing() -> Account:
    """Money held at (or owed by) the payment processor. Goes negative as guardians top up."""
    return _get_or_open(
        {"system_code": PROCESSOR_CLEARING},
        {"kind": AccountKind.PROCESSOR_CLEARING, "name": "Payment processor clearing", "allow_negative": True},
    )


def platform_fees() -> Account:
    return _get_or_open(
        {"system_code": PLATFORM_FEES}, {"kind": AccountKind.FEES, "name": "Platform fees", "allow_negative": True}
    )


def system_account(*, code: str, kind: str, name: str, allow_negative: bool = True) -> Account:
    """An account of the platform or of a program (e.g. a voucher program's funding)."""
    return _get_or_open({"system_code": code}, {"kind": kind, "name": name, "allow_negative": allow_negative})
