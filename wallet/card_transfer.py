"""A guardian moving money between their wallet and a child's card: one call to `wallet_card_transfer`
(wallet/sql/card_transfer.pg.sql) locks, checks and posts; the link's money permission is checked first.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from core import clock
from core.locks import lock_timeout_setting
from guardians.errors import PermissionMissing
from guardians.models import GuardianLink
from wallet.errors import AmountOutOfRange, CardStateInvalid, InsufficientFunds
from wallet.ledger import MAX_AMOUNT
from wallet.models import LedgerTransaction


@dataclass(frozen=True)
class CardTransferred:
    transaction: LedgerTransaction
    amount: int
    wallet_balance: int
    card_balance: int
    replayed: bool


_CALL = "SELECT * FROM wallet_card_transfer(%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)"
_TRANSACTION_FIELDS = ["id", "kind", "reference", "memo", "actor", "created_at"]


def card_transfer(*, link: GuardianLink, amount: int, reference: str, to_card: bool) -> CardTransferred:
    """To the card (`card_fund`) or back to the wallet (`card_withdraw`); the same reference moves once."""
    if not link.is_active or not link.can_manage_money:
        raise PermissionMissing("Your link to this student does not allow managing money.")
    maximum = settings.TOPUP_MAX_CENTS * 10 if to_card else MAX_AMOUNT
    if type(amount) is not int or not 0 < amount <= maximum:
        raise AmountOutOfRange(f"The amount must be between 1 and {maximum} cents.", minimum=1, maximum=maximum)
    kind = "card_fund" if to_card else "card_withdraw"
    actor = f"user:{link.guardian.user_id}"
    memo = f"To {link.student.first_name}'s card" if to_card else f"From {link.student.first_name}'s card"
    now = clock.now()
    params = [kind, reference, link.guardian_id, link.student_id, amount, to_card, actor, memo,
              DjangoJSONEncoder().encode({"student_id": link.student_id}), now, lock_timeout_setting()]
    with connection.cursor() as cursor:
        cursor.execute(_CALL, params)
        code, transaction_id, replayed, moved, wallet_balance, card_balance, available = cursor.fetchone()
    if code == "insufficient_funds":
        raise InsufficientFunds(available=available)
    if code == "card_closed":
        raise CardStateInvalid("The card is closed: the student has left the school.")
    if code != "approved":
        raise ValueError(f"wallet_card_transfer answered an unknown code {code!r}")
    posted = LedgerTransaction.from_db(connection.alias, _TRANSACTION_FIELDS, [transaction_id, kind, reference, memo[:300], actor, now])
    return CardTransferred(posted, moved, wallet_balance, card_balance, replayed)
