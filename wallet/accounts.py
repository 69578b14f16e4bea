"""Finding (and on first use, opening) the accounts each party holds."""

from django.db import IntegrityError, transaction
from django.db.models import Q

from guardians.models import Guardian, Student
from guardians.prepared import PreparedRead
from wallet import ledger
from wallet.models import Account, AccountKind, Merchant

PROCESSOR_CLEARING = "processor_clearing"
PLATFORM_FEES = "platform_fees"


def _account_of(owner_field: str) -> PreparedRead:
    # Found on every card charge, redemption, order and statement: compiled once (guardians/prepared.py).
    return PreparedRead(
        lambda kind, owner: Account.objects.filter(kind=kind, **{f"{owner_field}_id": owner}).order_by("pk")[:1],
        kind=str,
        owner=int,
    )


_ACCOUNT_BY_OWNER = {"guardian": _account_of("guardian"), "student": _account_of("student"), "merchant": _account_of("merchant")}


def _find(lookup: dict) -> Account | None:
    owner_field = next((field for field in lookup if field in _ACCOUNT_BY_OWNER), None)
    if owner_field is None:  # the platform's own accounts, by system code
        return Account.objects.filter(**lookup).first()
    return _ACCOUNT_BY_OWNER[owner_field].first(kind=lookup["kind"], owner=lookup[owner_field].pk)


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


_WALLET_AND_PAYABLE = PreparedRead(
    lambda guardian_id, merchant_id: Account.objects.select_for_update()
    .filter(Q(kind=AccountKind.GUARDIAN_WALLET, guardian_id=guardian_id) | Q(kind=AccountKind.MERCHANT_PAYABLE, merchant_id=merchant_id))
    .order_by("pk"),
    guardian_id=int,
    merchant_id=int,
)


def lock_wallet_and_payable(guardian: Guardian, merchant: Merchant) -> tuple[dict[int, Account], Account, Account]:
    """Inside a transaction: find and lock a guardian's wallet and a merchant's payable in one statement
    (primary-key order, as ledger.lock_accounts), opening either on its first use.
    Returns (the locked accounts by id, the wallet, the payable)."""
    locked = ledger.lock_accounts_matching(_WALLET_AND_PAYABLE, guardian_id=guardian.pk, merchant_id=merchant.pk)
    by_kind = {account.kind: account for account in locked.values()}
    if len(by_kind) < 2:  # a first payment of this guardian or to this merchant
        locked = ledger.lock_accounts([guardian_wallet(guardian).pk, merchant_payable(merchant).pk])
        by_kind = {account.kind: account for account in locked.values()}
    return locked, by_kind[AccountKind.GUARDIAN_WALLET], by_kind[AccountKind.MERCHANT_PAYABLE]


_ACCOUNT_AND_PAYABLE = PreparedRead(
    lambda account_id, merchant_id: Account.objects.select_for_update()
    .filter(Q(pk=account_id) | Q(kind=AccountKind.MERCHANT_PAYABLE, merchant_id=merchant_id))
    .order_by("pk"),
    account_id=int,
    merchant_id=int,
)


def lock_account_and_payable(account_id: int, merchant: Merchant) -> tuple[dict[int, Account], Account]:
    """Inside a transaction: lock an account known by id (a voucher program's funding) and a merchant's
    payable, found by its owner, in one statement (primary-key order), opening the payable on first use.
    Returns (the locked accounts by id, the payable)."""
    locked = ledger.lock_accounts_matching(_ACCOUNT_AND_PAYABLE, account_id=account_id, merchant_id=merchant.pk)
    payable = next((a for a in locked.values() if a.kind == AccountKind.MERCHANT_PAYABLE and a.merchant_id == merchant.pk), None)
    if payable is None or account_id not in locked:  # the merchant's first payment
        locked = ledger.lock_accounts([account_id, merchant_payable(merchant).pk])
        payable = next(a for a in locked.values() if a.kind == AccountKind.MERCHANT_PAYABLE and a.merchant_id == merchant.pk)
    return locked, payable
