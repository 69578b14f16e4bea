"""A leaver's card: closed on the leaving day, its balance sent back to the family (guardians.signals.student_left).

Whose money is on the card: every wallet that put money on it (guardian funding, automatic top-ups)
less what it took back (withdrawals). The balance goes back to those wallets in proportion to what
each put in net, in whole cents, the odd cents to the largest contributor; a balance nobody funded
(an opening balance, refunds of charges) goes to them likewise, or, when no wallet ever funded the
card, to the guardian of the oldest live link with the money permission. No fee, ever.

One ledger transaction (card -balance, wallets +shares), posted under the card account's lock, the
same lock every card charge takes: a charge either lands before the card closes (and is not part
of the balance returned) or sees a closed card and is declined. Money is neither created nor lost.
"""

from django.db import connection, transaction

from audit.actors import SYSTEM
from audit.services import audit_record
from core import clock
from guardians.models import GuardianLink, Student
from wallet import accounts, ledger
from wallet.models import Account, AccountKind, CardStatus, Entry, StudentCard

LIVE_CARD = (CardStatus.ACTIVE, CardStatus.FROZEN)


def leaver_card_reference(leaver_id: int) -> str:
    return f"leaver_card_return:{leaver_id}"


def net_funding_by_wallet(card_account_id: int) -> dict[int, int]:
    """Per guardian wallet: cents it moved onto the card, less cents it took back (every transaction
    that touched both). Wallets that took back as much as they put in are left out."""
    sql = (
        f"SELECT w.account_id, -SUM(w.amount) FROM {Entry._meta.db_table} w "
        f"JOIN {Account._meta.db_table} a ON a.id = w.account_id AND a.kind = %s "
        f"WHERE w.transaction_id IN (SELECT transaction_id FROM {Entry._meta.db_table} WHERE account_id = %s) "
        "GROUP BY w.account_id HAVING -SUM(w.amount) > 0 ORDER BY w.account_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [AccountKind.GUARDIAN_WALLET, card_account_id])
        return {account_id: int(net) for account_id, net in cursor.fetchall()}


def split_in_proportion(amount: int, weights: dict[int, int]) -> dict[int, int]:
    """`amount` cents shared by `weights`, largest remainder first; ties go to the larger weight, then the lower id."""
    total = sum(weights.values())
    shares = {key: amount * weight // total for key, weight in weights.items()}
    left = amount - sum(shares.values())
    order = sorted(weights, key=lambda key: (-(amount * weights[key] % total), -weights[key], key))
    for key in order[:left]:
        shares[key] += 1
    return {key: share for key, share in shares.items() if share}


def _fallback_wallet(student: Student) -> Account | None:
    link = (
        GuardianLink.objects.filter(student=student, revoked_at__isnull=True, can_manage_money=True)
        .select_related("guardian").order_by("created_at", "pk").first()
    )
    return accounts.guardian_wallet(link.guardian) if link is not None else None


def leaver_card_close(*, leaver_id: int, student_id: int, by_user_id: int | None = None, **kwargs) -> int:
    """Close the student's live card and send the card balance to the funding wallets. Returns the cents
    returned by this call (0 on a repeat: the ledger reference is the leaver's)."""
    student = Student.objects.select_related("school").get(pk=student_id)
    card_account = accounts.student_card_account(student)
    reference = leaver_card_reference(leaver_id)
    funders = net_funding_by_wallet(card_account.pk)
    fallback = None if funders else _fallback_wallet(student)
    with transaction.atomic(durable=True):
        locked = ledger.lock_accounts([card_account.pk, *funders, *([fallback.pk] if fallback else [])])
        closed = list(StudentCard.objects.filter(student=student, status__in=LIVE_CARD).values_list("pk", flat=True))
        if closed:
            StudentCard.objects.filter(pk__in=closed).update(status=CardStatus.CLOSED, status_changed_at=clock.now(), status_changed_by_id=by_user_id)
        if ledger.existing_transaction(reference) is not None:
            return 0
        balance = locked[card_account.pk].available
        weights = funders or ({fallback.pk: 1} if fallback else {})
        shares = split_in_proportion(balance, weights) if balance > 0 and weights else {}
        if shares:
            ledger.post_locked(
                accounts=locked,
                kind="leaver_card_return",
                reference=reference,
                legs=[ledger.Leg(card_account.pk, -balance), *(ledger.Leg(wallet_id, share) for wallet_id, share in sorted(shares.items()))],
                actor="system",
                memo="Card closed: the student left the school",
                metadata={"student_id": student.pk, "leaver_id": leaver_id},
            )
        audit_record(
            action="card.leaver_close",
            object_type="guardians.student",
            object_id=student.pk,
            school_id=student.school_id,
            before={"card_balance": balance, "live_card_ids": closed},
            after={"card_balance": balance - sum(shares.values()), "card_status": CardStatus.CLOSED},
            details={"leaver_id": leaver_id, "returned_to_wallets": {str(k): v for k, v in shares.items()}},
            actor=SYSTEM,
        )
    return sum(shares.values())
