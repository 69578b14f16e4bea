"""Finding (and on first use, opening) the accounts each party holds."""

from django.db import IntegrityError, transaction
from django.db.models import Q

from guardians.models import Guardian, Student
from wallet import ledger, queries
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


# --- Locking an account with a merchant's payable, in one statement ------------------------------
# Every sale, redemption and pre-order pays a merchant from one other account. Both are found by
# their owners and locked in one SELECT ... FOR UPDATE (core/locks.py: primary-key order, the lock
# timeout) instead of two look-ups and a lock.


def _with_payable(owner_field: str, kind: str | None = None):
    def build(owner, merchant_id):
        other = Q(**{owner_field: owner}) if kind is None else Q(kind=kind, **{owner_field: owner})
        payable = Q(kind=AccountKind.MERCHANT_PAYABLE, merchant_id=merchant_id)
        return Account.objects.filter(other | payable)

    return build


_CARD_WITH_PAYABLE = _with_payable("student_id", AccountKind.STUDENT_CARD)
_WALLET_WITH_PAYABLE = _with_payable("guardian_id", AccountKind.GUARDIAN_WALLET)
_ACCOUNT_WITH_PAYABLE = _with_payable("pk")


def _lock_with_payable(read, owner: int, merchant: Merchant, other_id) -> tuple[dict[int, Account], Account, Account]:
    """Inside a transaction. `other_id()` gives the other account's id, opening it if need be: it is
    called only on a first payment, when the statement did not find both accounts."""

    def split(locked):
        payable = next(
            (a for a in locked.values() if a.kind == AccountKind.MERCHANT_PAYABLE and a.merchant_id == merchant.pk),
            None,
        )
        return next((a for a in locked.values() if a is not payable), None), payable

    locked = ledger.lock_accounts_matching(read(owner, merchant.pk))
    other, payable = split(locked)
    if other is None or payable is None:
        locked = ledger.lock_accounts([other_id(), merchant_payable(merchant).pk])
        other, payable = split(locked)
    return locked, other, payable


def lock_card_and_payable(student: Student, merchant: Merchant) -> tuple[dict[int, Account], Account, Account]:
    """(the locked accounts by id, the student's card account, the merchant's payable)."""
    return _lock_with_payable(_CARD_WITH_PAYABLE, student.pk, merchant, lambda: student_card_account(student).pk)


def lock_wallet_and_payable(guardian: Guardian, merchant: Merchant) -> tuple[dict[int, Account], Account, Account]:
    """(the locked accounts by id, the guardian's wallet, the merchant's payable)."""
    return _lock_with_payable(_WALLET_WITH_PAYABLE, guardian.pk, merchant, lambda: guardian_wallet(guardian).pk)


def lock_wallet_naming_payable(guardian: Guardian, merchant: Merchant) -> tuple[dict[int, Account], Account, Account]:
    """(the locked accounts by id: the guardian's wallet only, the wallet, the merchant's payable unlocked):
    for a hold, which names the payable but moves nothing to it."""
    wallet = guardian_wallet(guardian)
    locked = ledger.lock_accounts([wallet.pk])
    return locked, locked[wallet.pk], merchant_payable(merchant)


def lock_account_and_payable(account_id: int, merchant: Merchant) -> tuple[dict[int, Account], Account, Account]:
    """(the locked accounts by id, the account `account_id`, e.g. a voucher program's funding, the payable)."""
    return _lock_with_payable(_ACCOUNT_WITH_PAYABLE, account_id, merchant, lambda: account_id)
